import { GetQueueAttributesCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { ValidationError } from '../../errors';
import { type CallContext, deleteMessages, type EntryFailure, receiveMessages } from '../../sqs/batch-calls';
import { nextReceive, pauseAfterEmptyReceive, windowEndAfterFirst } from './batching-window';
import { InvocationSlots } from './invocation-slots';
import { createLambdaContext, type LambdaHandler } from './lambda-context';
import {
  type LambdaSqsEvent,
  type LambdaSqsRecord,
  regionOfQueueArn,
  toLambdaSqsRecord,
} from './lambda-sqs-records';
import { INVOCATION_OUTCOME, type InvocationEnd, settleBatch } from './partial-batch-response';
import { pause } from './pause';
import { type SqsEventSourceMappingOptions, validateMappingOptions } from './sqs-event-source-options';

/** Counts of what an event source mapping has done. */
export interface SqsEventSourceStats {
  /** Handler calls. */
  invocations: number;
  /** Records handed to the handler, redeliveries included. */
  records: number;
  /** Messages deleted after their invocation. */
  deleted: number;
  /** Invocations whose whole batch failed: a throw, a timeout or an invalid partial batch response. */
  failedBatches: number;
  /** Records a valid partial batch response listed as failed. */
  failedItems: number;
  /** Invocations that ran past the function timeout. */
  timeouts: number;
  /** Invocations running now. */
  inFlight: number;
  /** The most invocations that ran at once. */
  peakConcurrency: number;
}

/** Receives running at once by default; fewer when the maximum concurrency is lower. */
const MAX_POLLERS = 5;

/**
 * What Lambda's SQS event source mapping does around a function, against any SQS endpoint: it long
 * polls the queue, gathers up to `batchSize` records within the batching window, runs up to
 * `maximumConcurrency` invocations at once, and applies the partial batch response as AWS does:
 *
 * - no response, `{}`, `{ batchItemFailures: [] }` or a null list: every message is deleted;
 * - items listed: the others are deleted, the listed ones are left to come back after their
 *   visibility timeout (or whatever visibility the handler set);
 * - an `itemIdentifier` that is empty, null, missing or not in the batch, or a response that is not
 *   an object: the whole batch fails (nothing is deleted);
 * - a throw, or an invocation that outlasts the function timeout: the whole batch fails.
 *
 * @throws `ValidationError` at construction naming every setting outside AWS's rules.
 *
 * @example
 * ```ts
 * const mapping = new SqsEventSourceMapping({ sqs, queueUrl, handler, batchSize: 100, maximumBatchingWindowSeconds: 1 });
 * await mapping.start();
 * // ...
 * await mapping.stop(); // stops polling and waits for running invocations
 * ```
 */
export class SqsEventSourceMapping {
  readonly queueUrl: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly maximumConcurrency: number;
  readonly fifo: boolean;
  private readonly sqs: SQSClient;
  /** Where the receives and deletes go, through the one SQS transport. */
  private readonly calls: CallContext;
  private readonly handler: LambdaHandler<LambdaSqsEvent>;
  private readonly reportBatchItemFailures: boolean;
  private readonly functionName: string;
  private readonly functionTimeoutMs: number;
  private readonly pollWaitTimeSeconds: number;
  private readonly pollerCount: number;
  private readonly onError: NonNullable<SqsEventSourceMappingOptions['onError']>;
  private readonly onInvocation?: SqsEventSourceMappingOptions['onInvocation'];
  private queueArn?: string;
  private region = 'us-east-1';
  private readonly counters: SqsEventSourceStats = {
    invocations: 0,
    records: 0,
    deleted: 0,
    failedBatches: 0,
    failedItems: 0,
    timeouts: 0,
    inFlight: 0,
    peakConcurrency: 0,
  };
  private running = false;
  private abort = new AbortController();
  private pollers: Promise<void>[] = [];
  private readonly invocations = new Set<Promise<void>>();
  private readonly slots: InvocationSlots;

  constructor(options: SqsEventSourceMappingOptions) {
    validateMappingOptions(options);
    this.sqs = options.sqs;
    this.queueUrl = options.queueUrl;
    this.calls = { sqs: options.sqs, queueUrl: options.queueUrl };
    this.handler = options.handler;
    this.fifo = options.queueUrl.endsWith('.fifo');
    this.batchSize = options.batchSize ?? 10;
    this.maximumBatchingWindowSeconds = options.maximumBatchingWindowSeconds ?? 0;
    this.maximumConcurrency = options.maximumConcurrency ?? 5;
    this.slots = new InvocationSlots(this.maximumConcurrency);
    this.reportBatchItemFailures = options.reportBatchItemFailures ?? true;
    this.functionName = options.functionName ?? 'local-function';
    this.functionTimeoutMs = (options.functionTimeoutSeconds ?? 30) * 1000;
    this.pollWaitTimeSeconds = options.pollWaitTimeSeconds ?? 20;
    this.pollerCount = options.pollers ?? Math.min(MAX_POLLERS, this.maximumConcurrency);
    this.onError =
      options.onError ??
      ((error, details) =>
        console.error(`${this.functionName}: batch of ${details.messageIds.length} failed`, error));
    if (options.onInvocation) this.onInvocation = options.onInvocation;
    if (options.queueArn) this.setArn(options.queueArn);
  }

  /**
   * Starts polling. Resolves once the queue ARN is known and the pollers run.
   *
   * @example
   * ```ts
   * await mapping.start();
   * ```
   */
  async start(): Promise<void> {
    if (this.running) return;
    if (!this.queueArn) {
      const output = await this.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn'] }),
      );
      const arn = output.Attributes?.QueueArn;
      if (!arn) throw new ValidationError(`the queue ${this.queueUrl} reported no QueueArn`, this.queueUrl);
      this.setArn(arn);
    }
    this.running = true;
    this.abort = new AbortController();
    this.pollers = Array.from({ length: this.pollerCount }, () => this.poll());
  }

  /**
   * Stops polling, then waits for every running invocation and its deletes. Messages received but not
   * yet handed to the function come back after their visibility timeout.
   *
   * @example
   * ```ts
   * await mapping.stop();
   * ```
   */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    this.slots.wakeAll();
    await Promise.all(this.pollers);
    this.pollers = [];
    while (this.invocations.size > 0) await Promise.allSettled([...this.invocations]);
  }

  /** Whether it is polling. */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * A copy of the counters.
   *
   * @example
   * ```ts
   * const { invocations, deleted, failedBatches } = mapping.stats();
   * ```
   */
  stats(): SqsEventSourceStats {
    return { ...this.counters };
  }

  private setArn(arn: string): void {
    this.queueArn = arn;
    this.region = regionOfQueueArn(arn, this.region);
  }

  private async poll(): Promise<void> {
    while (this.running) {
      await this.slots.acquire();
      if (!this.running) {
        this.slots.release();
        return;
      }
      let messages: Message[];
      try {
        messages = await this.gather();
      } catch (error) {
        this.slots.release();
        if (!this.running) return;
        this.onError(error, { messageIds: [] });
        await pause(1_000, this.abort.signal);
        continue;
      }
      if (messages.length === 0) {
        this.slots.release();
        continue;
      }
      const invocation = this.invoke(messages).finally(() => {
        this.invocations.delete(invocation);
        this.slots.release();
      });
      this.invocations.add(invocation);
    }
  }

  /** Receives up to `batchSize` messages, within the batching window once the first has come. */
  private async gather(): Promise<Message[]> {
    const settings = {
      batchSize: this.batchSize,
      maximumBatchingWindowSeconds: this.maximumBatchingWindowSeconds,
      fifo: this.fifo,
      pollWaitTimeSeconds: this.pollWaitTimeSeconds,
    };
    const messages: Message[] = [];
    let bytes = 0;
    let windowEndMs = 0;
    while (this.running) {
      const receive = nextReceive(settings, { count: messages.length, bytes, windowEndMs }, Date.now());
      if (receive === undefined) break;
      const received = await receiveMessages(this.calls, {
        maxMessages: receive.maxMessages,
        waitTimeSeconds: receive.waitTimeSeconds,
        systemAttributeNames: ['All'],
        ...(receive.first ? { signal: this.abort.signal } : {}),
      });
      for (const message of received) {
        messages.push(message);
        bytes += Buffer.byteLength(message.Body ?? '');
      }
      if (receive.first) {
        if (received.length === 0) continue;
        const windowEnd = windowEndAfterFirst(settings, Date.now());
        if (windowEnd === undefined) break;
        windowEndMs = windowEnd;
      } else if (received.length === 0) {
        await pause(
          pauseAfterEmptyReceive({ waitTimeSeconds: receive.waitTimeSeconds, windowEndMs }, Date.now()),
          this.abort.signal,
        );
      }
    }
    return messages;
  }

  private async invoke(messages: readonly Message[]): Promise<void> {
    const source = { queueArn: this.queueArn ?? '', region: this.region };
    const records = messages.map((message) => toLambdaSqsRecord(message, source));
    const messageIds = records.map((record) => record.messageId);
    this.counters.invocations += 1;
    this.counters.records += records.length;
    this.counters.inFlight += 1;
    this.counters.peakConcurrency = Math.max(this.counters.peakConcurrency, this.counters.inFlight);
    let end: InvocationEnd;
    try {
      end = await this.callHandler(records);
    } finally {
      this.counters.inFlight -= 1;
    }
    if ('outcome' in end && end.outcome === INVOCATION_OUTCOME.timedOut) this.counters.timeouts += 1;
    const settlement = settleBatch(end, messageIds, this.reportBatchItemFailures);
    this.counters.failedItems += settlement.failedItems;
    if (settlement.batchFailure) {
      this.counters.failedBatches += 1;
      this.onError(settlement.batchFailure.error, { messageIds });
    }
    const toDelete = new Set(settlement.deleteIds);
    const deletedIds = await this.delete(records.filter((record) => toDelete.has(record.messageId)));
    this.onInvocation?.({
      messageIds,
      deletedIds,
      outcome: settlement.outcome,
      ...(settlement.batchFailure ? { error: settlement.batchFailure.error } : {}),
    });
  }

  /** Calls the function with a Lambda-like context; past the function timeout, the call counts as timed out. */
  private async callHandler(records: LambdaSqsRecord[]): Promise<InvocationEnd> {
    const context = createLambdaContext({
      functionName: this.functionName,
      timeoutMs: this.functionTimeoutMs,
      region: this.region,
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), this.functionTimeoutMs);
      });
      const response = await Promise.race([
        Promise.resolve().then(() => this.handler({ Records: records }, context)),
        timedOut,
      ]);
      if (response !== TIMED_OUT) return { response };
      return {
        outcome: INVOCATION_OUTCOME.timedOut,
        error: new Error(`${this.functionName} timed out after ${this.functionTimeoutMs} ms`),
      };
    } catch (error) {
      return { outcome: INVOCATION_OUTCOME.threw, error };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Deletes the records' messages; reports those SQS would not delete, together, and those lost to a
   * failed call, with its error. Returns the ids of the messages deleted.
   */
  private async delete(records: readonly LambdaSqsRecord[]): Promise<string[]> {
    const failures = await deleteMessages(
      this.calls,
      records.map((record, index) => ({ key: String(index), receiptHandle: record.receiptHandle })),
    );
    const messageIdOf = (failure: EntryFailure) => records[Number(failure.key)]?.messageId ?? '?';
    const refused = failures.filter((failure) => failure.cause === undefined);
    if (refused.length > 0)
      this.onError(new Error(`could not delete ${refused.length} message(s) from ${this.queueUrl}`), {
        messageIds: refused.map(messageIdOf),
      });
    // Entries lost to one failed call share its error: one report per call, as before.
    const byCause = new Map<unknown, EntryFailure[]>();
    for (const failure of failures)
      if (failure.cause !== undefined)
        byCause.set(failure.cause, [...(byCause.get(failure.cause) ?? []), failure]);
    for (const [cause, failed] of byCause) this.onError(cause, { messageIds: failed.map(messageIdOf) });
    const failedKeys = new Set(failures.map((failure) => failure.key));
    const deleted = records
      .filter((_record, index) => !failedKeys.has(String(index)))
      .map((record) => record.messageId);
    this.counters.deleted += deleted.length;
    return deleted;
  }
}

const TIMED_OUT = Symbol('timed out');
