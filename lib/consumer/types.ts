import type { SQSClient } from '@aws-sdk/client-sqs';
import type { FailedEvent } from '../failed/types';
import type { EventFailure } from '../messages/envelope';
import type { BackoffPolicy } from '../worker/backoff';

/** Structured logging, as Powertools Logger offers it. */
export interface ConsumerLogger {
  debug(message: string, ...extra: unknown[]): void;
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  error(message: string, ...extra: unknown[]): void;
}

/**
 * Called once with the events of one `fail()` call that will not be tried again.
 *
 * @example
 * ```ts
 * const onFinallyFailed: FinallyFailedHandler = async (failures) => {
 *   for (const { event, attempts, lastError } of failures) await alertOps(event.id, attempts, lastError.message);
 * };
 * ```
 */
export type FinallyFailedHandler<TData = unknown> = (
  failures: readonly FailedEvent<TData>[],
) => Promise<void> | void;

/**
 * Options of `PullConsumer.create()`. Unknown keys are rejected, and every problem is reported at once,
 * naming the value given.
 *
 * @example
 * ```ts
 * const options: PullConsumerOptions = {
 *   sqs: new SQSClient({}),
 *   queueUrl: process.env.QUEUE_URL!,
 *   deadLetterQueueUrl: process.env.DLQ_URL!,
 *   maxRedeliveryCount: 3,
 *   visibilityTimeoutSeconds: 60,
 *   heartbeatIntervalSeconds: 20,
 * };
 * ```
 */
export interface PullConsumerOptions<TData = unknown> {
  /** The SQS client every call goes through; point it anywhere (an emulator, another region). */
  readonly sqs: SQSClient;
  /**
   * The pipeline's queue: a standard queue. FIFO queues (URLs ending in `.fifo`) are refused, because
   * re-sending part of a message would break the order within its message group.
   */
  readonly queueUrl: string;
  /**
   * Where events go that failed `maxRedeliveryCount` times, and messages that are not Sluice
   * envelopes. Events are sent there as envelopes carrying their `attempts` and `lastError`.
   *
   * Left out, `onFinallyFailed` is required: it is then the only record of an event given up on. It is
   * called before the event's message is deleted, and if it throws, the message is not deleted but
   * comes back after a backoff delay, so the handover is tried again. Malformed messages are left on
   * the queue for its own redrive policy to move.
   * @default none
   */
  readonly deadLetterQueueUrl?: string;
  /**
   * The most attempts an event gets: when an attempt numbered `maxRedeliveryCount` (or later) fails,
   * the event is not tried again but goes to the dead-letter queue and to `onFinallyFailed`. From 1 to
   * 1000. The queue's own redrive `maxReceiveCount`, if it has one, should be higher, or SQS moves the
   * message first (a warning is logged when it is not).
   * @default 5
   */
  readonly maxRedeliveryCount?: number;
  /** The wait before each retry of a failed event. @default 2 s doubling up to 300 s, with jitter */
  readonly backoff?: BackoffPolicy;
  /**
   * How long a received message stays hidden from other consumers, in seconds (1 to 43200); the
   * heartbeat renews it to this while its events are reserved.
   * @default 30
   */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * How often reserved messages have their visibility renewed, in seconds: more than 0, less than
   * `visibilityTimeoutSeconds`.
   * @default 10
   */
  readonly heartbeatIntervalSeconds?: number;
  /** How long `reserve()` waits for a first message when the queue is empty (long polling), 0 to 20 seconds. @default 1 */
  readonly waitTimeSeconds?: number;
  /**
   * Called once per `acknowledge()`/`fail()` call with the events that call gave up on. With a
   * dead-letter queue it is called after they are safely there and their message is deleted, and an
   * error it throws is logged and reported by `fail()`, but changes nothing (the events are in the
   * dead-letter queue). Required when `deadLetterQueueUrl` is left out.
   * @default none
   */
  readonly onFinallyFailed?: FinallyFailedHandler<TData>;
  /** Where warnings and errors go (malformed messages, failed heartbeats). @default warnings and errors to the console */
  readonly logger?: ConsumerLogger;
  /** Random numbers in [0, 1) for backoff jitter; replace it in tests. @default Math.random */
  readonly random?: () => number;
  /** Waits between retries of SQS calls; replace it in tests. @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The clock, in milliseconds since the epoch, for `lastError.at` and `failedAt`. @default Date.now */
  readonly now?: () => number;
}

/**
 * An event handed out by `reserve()`. It stays reserved (its message hidden from other consumers)
 * until it is acknowledged, failed, or released by `stop()`.
 */
export interface ReservedEvent<TData = unknown> {
  /** The event's id: what `acknowledge()` and `fail()` take. */
  readonly id: string;
  /** The pipeline the message was packed for. */
  readonly pipeline: string;
  readonly stream: string;
  readonly type: string;
  /** The commit time, read from the id. */
  readonly time: Date;
  readonly data: TData;
  readonly partitionKey?: string;
  /** This attempt's number: failed attempts so far plus this one (1 on first delivery). */
  readonly attempts: number;
  /**
   * Why the previous attempt failed, when the event came back in a message of its own (part of its
   * message succeeded). Absent on a first attempt and on a whole message that came back as it was.
   */
  readonly lastError?: EventFailure;
}

/**
 * Options of `fail()`.
 *
 * @example
 * ```ts
 * await consumer.fail([event.id], { reason: error, retryAfterSeconds: 60 });
 * ```
 */
export interface FailOptions {
  /** Why the attempt failed; recorded as the event's `lastError`. @default an `UnknownFailure` */
  readonly reason?: string | Error;
  /**
   * Seconds before the next attempt, 0 to 900, instead of the backoff delay (a rate limit's
   * `Retry-After`, say). Ignored for events that will not be tried again.
   * @default the backoff delay for the attempt
   */
  readonly retryAfterSeconds?: number;
}

/**
 * Options of `stop()`.
 *
 * @example
 * ```ts
 * process.once('SIGTERM', () => void consumer.stop({ drain: true, timeoutSeconds: 20 }));
 * ```
 */
export interface StopOptions {
  /**
   * Wait for reserved events to be acknowledged or failed before stopping, renewing their visibility
   * meanwhile; events still reserved when `timeoutSeconds` runs out are released.
   * @default false: release reserved events at once
   */
  readonly drain?: boolean;
  /** How long a drain waits, in seconds, more than 0. @default 30 */
  readonly timeoutSeconds?: number;
}

/** What `stop()` did. */
export interface StopResult {
  /** Reserved events given back to the queue (made visible at once), in the order they were reserved. */
  readonly releasedEventIds: readonly string[];
  /** The messages that carried them. */
  readonly releasedMessageIds: readonly string[];
}

/** Counters of one consumer since it was created. */
export interface ConsumerStats {
  /** Messages received, malformed ones included. */
  readonly messagesReceived: number;
  /** Events handed out by `reserve()`. */
  readonly eventsReserved: number;
  readonly eventsAcknowledged: number;
  /** Events failed and scheduled for another attempt. */
  readonly eventsRetried: number;
  /** Events failed for the last time: sent to the dead-letter queue and `onFinallyFailed`. */
  readonly eventsFinallyFailed: number;
  /** Copies of an event received while it was already reserved; they were deleted, not handed out. */
  readonly duplicateEvents: number;
  /** Messages that were not Sluice envelopes. */
  readonly malformedMessages: number;
  /** Events released back to the queue by `stop()`. */
  readonly eventsReleased: number;
  /** Heartbeat entries SQS refused (a message no longer in flight, say). */
  readonly heartbeatFailures: number;
  /** Events reserved now. */
  readonly eventsInFlight: number;
  /** Messages held now. */
  readonly messagesInFlight: number;
}
