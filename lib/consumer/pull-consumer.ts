import type { Message } from '@aws-sdk/client-sqs';
import { ValidationError } from '../errors';
import { UNKNOWN_FAILURE_NAME } from '../failed/types';
import { type EventFailure, toEventFailure } from '../messages/envelope';
import { type CallContext, reasonOf, receiveMessages } from '../sqs/batch-calls';
import { DEFAULT_DRAIN_TIMEOUT_SECONDS } from './constants';
import { ConsumerError } from './errors';
import { Heartbeat } from './heartbeat';
import { InFlight } from './in-flight';
import { checkEventIds, checkReserveCount, failOptionProblems, stopOptionProblems } from './inputs';
import { type PullConsumerSettings, resolvePullConsumerOptions } from './options';
import { Receiver } from './receiving';
import { Settlement } from './settlement';
import { shutDown } from './shutdown';
import type {
  ConsumerStats,
  FailOptions,
  PullConsumerOptions,
  ReservedEvent,
  StopOptions,
  StopResult,
} from './types';

/**
 * Pulls Sluice events from a pipeline's SQS queue for code that runs outside Lambda: a container, a
 * script, a long-running service. Events, not messages, are the unit: `reserve()` hands out the events
 * of the messages it receives; each is then acknowledged or failed on its own, and the consumer turns
 * that into SQS calls once every event of a message is settled:
 *
 * - all acknowledged: the message is deleted;
 * - all failed: the message is hidden for the backoff delay of its attempt (ChangeMessageVisibility)
 *   and comes back whole;
 * - some of each: the failed events are re-sent as a new message, delayed by the backoff and carrying
 *   `attempts` and `lastError`, and the original is deleted once SQS has accepted the re-send;
 * - an event whose attempt `maxRedeliveryCount` failed is not tried again: it goes to the dead-letter
 *   queue (with its attempts and last error) and `onFinallyFailed` is called once with it.
 *
 * While events are reserved, a heartbeat renews their messages' visibility, so long work is not
 * delivered twice. A message that is not a Sluice envelope is never handed out: it goes to the
 * dead-letter queue, or without one is left for the queue's redrive policy.
 *
 * Delivery is at least once: a message comes back whole when a step of its settlement fails (the
 * error says which), when the process dies, or when `stop()` releases it, so handlers should be
 * idempotent. Transient SQS errors are retried (the `aws` retry preset); others are thrown as a
 * `ConsumerError` naming the queue, messages and events.
 *
 * IAM: `sqs:ReceiveMessage`, `sqs:ChangeMessageVisibility`, `sqs:DeleteMessage`, `sqs:SendMessage`
 * and `sqs:GetQueueAttributes` on the queue; `sqs:SendMessage` on the dead-letter queue.
 *
 * @example
 * ```ts
 * const consumer = PullConsumer.create<Order>({
 *   sqs: new SQSClient({}),
 *   queueUrl: process.env.QUEUE_URL!,
 *   deadLetterQueueUrl: process.env.DLQ_URL!,
 *   onFinallyFailed: (failures) => alertOps(failures),
 * });
 * process.once('SIGTERM', () => void consumer.stop({ drain: true }));
 * while (!consumer.isStopped) {
 *   for (const event of await consumer.reserve(10)) {
 *     try {
 *       await handle(event.data);
 *       await consumer.acknowledge([event.id]);
 *     } catch (error) {
 *       await consumer.fail([event.id], { reason: error as Error });
 *     }
 *   }
 * }
 * ```
 */
export class PullConsumer<TData = unknown> {
  private readonly settings: PullConsumerSettings<TData>;
  private readonly context: CallContext;
  private readonly inFlight: InFlight;
  private readonly abort = new AbortController();
  private readonly reserving = new Set<Promise<unknown>>();
  private queueChecked: Promise<void> | undefined;
  private readonly heartbeat: Heartbeat;
  private readonly settlement: Settlement<TData>;
  private readonly receiver: Receiver<TData>;
  private stopping: Promise<StopResult> | undefined;

  private constructor(settings: PullConsumerSettings<TData>) {
    this.settings = settings;
    this.inFlight = new InFlight(settings.queueUrl);
    this.context = {
      sqs: settings.sqs,
      queueUrl: settings.queueUrl,
      sleep: settings.sleep,
      random: settings.random,
    };
    this.heartbeat = new Heartbeat({
      context: this.context,
      messages: this.inFlight.messages,
      counters: this.inFlight.counters,
      intervalSeconds: settings.heartbeatIntervalSeconds,
      visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
      logger: settings.logger,
    });
    this.settlement = new Settlement(settings, this.context, this.inFlight, this.heartbeat);
    this.receiver = new Receiver(settings, this.context, this.inFlight, this.settlement);
  }

  /**
   * Checks the options (every problem is reported at once, naming its value) and makes a consumer. It
   * makes no call to SQS until the first `reserve()`.
   *
   * @throws `ValidationError` naming every bad or unknown option.
   * @example
   * ```ts
   * const consumer = PullConsumer.create({ sqs, queueUrl, deadLetterQueueUrl, maxRedeliveryCount: 3 });
   * ```
   */
  static create<TData = unknown>(options: PullConsumerOptions<TData>): PullConsumer<TData> {
    return new PullConsumer(resolvePullConsumerOptions(options));
  }

  /** The queue this consumer reads. */
  get queueUrl(): string {
    return this.settings.queueUrl;
  }

  /** True once `stop()` was called. */
  get isStopped(): boolean {
    return this.stopping !== undefined;
  }

  /**
   * Receives messages (up to 10 per ReceiveMessage call, several calls if need be) and reserves their
   * events. The first call waits up to `waitTimeSeconds` for a message; once one has come, the rest
   * only take what is there. Resolves to an empty list when the queue stays empty. A message is never
   * split, so the result can hold more than `maxEvents` events when messages pack several; it asks
   * for no more messages than events are still wanted.
   *
   * Malformed messages are not handed out (see the class description), nor are copies of events
   * already reserved.
   *
   * @param maxEvents - how many events are wanted, 1 to 10000.
   * @throws `ConsumerError` with code `consumer-stopped` after `stop()`; `ConsumerError` when SQS refuses the receive and no
   * event was reserved yet (once some are, they are returned and the error is logged).
   * @example
   * ```ts
   * const events = await consumer.reserve(25);
   * for (const event of events) console.log(event.id, event.type, event.attempts);
   * ```
   */
  async reserve(maxEvents = 10): Promise<ReservedEvent<TData>[]> {
    checkReserveCount(maxEvents);
    if (this.stopping !== undefined) throw ConsumerError.stopped(this.settings.queueUrl);
    const run = this.reserveEvents(maxEvents);
    this.reserving.add(run);
    try {
      return await run;
    } finally {
      this.reserving.delete(run);
    }
  }

  /**
   * Marks events as done. A message is deleted once every event in it is settled and all of them
   * succeeded (see the class description for the other cases); the promise resolves when the SQS calls
   * this led to are done. Acknowledging an event twice is harmless.
   *
   * @throws `ConsumerError` with code `event-not-reserved`, changing nothing, when an id is not reserved
   * by this consumer or was failed already; `ConsumerError` when SQS refused a call that followed.
   * @example
   * ```ts
   * await consumer.acknowledge(events.map((event) => event.id));
   * ```
   */
  async acknowledge(eventIds: readonly string[]): Promise<void> {
    await this.settle(eventIds, 'acknowledged', 'acknowledge', {});
  }

  /**
   * Marks events as failed, with the reason. Once every event of a message is settled, failed events
   * are tried again after the backoff delay for their attempt (or `retryAfterSeconds`), unless this
   * attempt was number `maxRedeliveryCount`: such an event goes to the dead-letter queue and to
   * `onFinallyFailed`. Failing an event twice is harmless (the first reason stays).
   *
   * @throws `ConsumerError` with code `event-not-reserved`, changing nothing, when an id is not reserved
   * by this consumer or was acknowledged already, or an option is invalid; `ConsumerError` when SQS
   * refused a call that followed, or `onFinallyFailed` threw.
   * @example
   * ```ts
   * await consumer.fail([event.id], { reason: error, retryAfterSeconds: 30 });
   * ```
   */
  async fail(eventIds: readonly string[], options: FailOptions = {}): Promise<void> {
    const problems = failOptionProblems(options);
    if (problems.length > 0)
      throw new ValidationError(`invalid fail() options: ${problems.join('; ')}`, options);
    const failure = toEventFailure(options.reason, this.settings.now(), UNKNOWN_FAILURE_NAME);
    await this.settle(eventIds, 'failed', 'fail', {
      failure,
      ...(options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: options.retryAfterSeconds }),
    });
  }

  /**
   * Stops the consumer: `reserve()` throws from now on. Without `drain`, a receive under way is cut
   * short (a message SQS was already handing to it comes back once the visibility timeout runs out),
   * and every reserved event's message is released at once (visibility 0) so another consumer can take
   * it; a message some of whose events were already acknowledged comes back whole, and the release
   * counts as a receive towards the events' attempts and the queue's redrive policy. With
   * `drain`, it waits (renewing visibility meanwhile) up to `timeoutSeconds` for reserved events to be
   * settled, and releases what is left. Then the heartbeat stops. Calling it again returns the first
   * call's promise.
   *
   * @throws `ConsumerError` when SQS refused to release a message (it comes back once its visibility
   * runs out); the consumer is stopped all the same.
   * @example
   * ```ts
   * const { releasedEventIds } = await consumer.stop({ drain: true, timeoutSeconds: 10 });
   * ```
   */
  stop(options: StopOptions = {}): Promise<StopResult> {
    const problems = stopOptionProblems(options);
    if (problems.length > 0)
      return Promise.reject(new ValidationError(`invalid stop() options: ${problems.join('; ')}`, options));
    if (this.stopping === undefined) {
      const { context, abort, reserving, inFlight, settlement, heartbeat } = this;
      this.stopping = shutDown(
        { context, abort, reserving, inFlight, settlement, heartbeat },
        options.drain ?? false,
        (options.timeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS) * 1000,
      );
    }
    return this.stopping;
  }

  /**
   * Counters since the consumer was made, and what it holds now.
   *
   * @example
   * ```ts
   * const { eventsInFlight, malformedMessages } = consumer.stats();
   * ```
   */
  stats(): ConsumerStats {
    return this.inFlight.stats();
  }

  // Reserving

  private async reserveEvents(maxEvents: number): Promise<ReservedEvent<TData>[]> {
    this.queueChecked ??= this.receiver.checkQueue();
    await this.queueChecked;
    const events: ReservedEvent<TData>[] = [];
    let waitTimeSeconds = this.settings.waitTimeSeconds;
    while (events.length < maxEvents && this.stopping === undefined) {
      let received: Message[];
      try {
        received = await receiveMessages(this.context, {
          maxMessages: maxEvents - events.length,
          waitTimeSeconds,
          visibilityTimeoutSeconds: this.settings.visibilityTimeoutSeconds,
          signal: this.abort.signal,
        });
      } catch (error) {
        if (this.abort.signal.aborted) throw ConsumerError.stopped(this.settings.queueUrl);
        const failure = new ConsumerError(
          `ReceiveMessage failed on queue ${this.settings.queueUrl}: ${reasonOf(error).message}`,
          { queueUrl: this.settings.queueUrl, operations: ['ReceiveMessage'], messageIds: [], eventIds: [] },
          { cause: error },
        );
        if (events.length === 0) throw failure;
        this.settings.logger.error('receive failed; returning the events reserved so far', {
          queueUrl: this.settings.queueUrl,
          reserved: events.length,
          error: failure,
        });
        break;
      }
      if (received.length === 0) break;
      waitTimeSeconds = 0;
      events.push(...(await this.receiver.accept(received)));
    }
    this.heartbeat.schedule();
    // Messages received while stopping are held, so the stop releases them; the caller gets nothing.
    if (this.abort.signal.aborted) throw ConsumerError.stopped(this.settings.queueUrl);
    return events;
  }

  // Settling

  private async settle(
    eventIds: readonly string[],
    outcome: 'acknowledged' | 'failed',
    method: 'acknowledge' | 'fail',
    details: { failure?: EventFailure; retryAfterSeconds?: number },
  ): Promise<void> {
    checkEventIds(eventIds, method);
    const ready = this.inFlight.settle(eventIds, outcome, method, details);
    if (ready.length > 0) await this.settlement.settle(ready);
  }
}
