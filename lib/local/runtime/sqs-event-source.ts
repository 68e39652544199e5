import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, ValidationError } from '../../errors';
import type { SqsRecord } from '../../worker/sqs-record';
import { createLambdaContext, type LambdaHandler } from './lambda-context';
import { pause } from './pause';

/** An SQS record as Lambda delivers it. */
export interface LambdaSqsRecord extends SqsRecord {
  readonly messageAttributes: Readonly<Record<string, LambdaSqsMessageAttribute>>;
  readonly md5OfBody: string;
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

/** A message attribute as Lambda delivers it. */
export interface LambdaSqsMessageAttribute {
  readonly stringValue?: string;
  readonly binaryValue?: string;
  readonly stringListValues: string[];
  readonly binaryListValues: string[];
  readonly dataType: string;
}

/** The event a function gets from an SQS event source. */
export interface LambdaSqsEvent {
  readonly Records: LambdaSqsRecord[];
}

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

/** Options of an {@link SqsEventSourceMapping}. Unknown keys are rejected. */
export interface SqsEventSourceMappingOptions {
  /** The client that receives and deletes; point it at the emulator with `useQueueUrlAsEndpoint: false`. */
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** The function, as its module exports it. */
  readonly handler: LambdaHandler<LambdaSqsEvent>;
  /** @default the queue's `QueueArn` attribute, read on `start()` */
  readonly queueArn?: string;
  /** Records per invocation: 1 to 10000 (1 to 10 on a FIFO queue). @default 10 */
  readonly batchSize?: number;
  /**
   * How long to gather records before invoking, in seconds: 0 to 300, and at least 1 when `batchSize`
   * is over 10. FIFO queues take none. @default 0
   */
  readonly maximumBatchingWindowSeconds?: number;
  /**
   * The most invocations at once: 2 to 1000.
   * @default 5 (the number of batches Lambda starts with when no maximum is set)
   */
  readonly maximumConcurrency?: number;
  /**
   * Whether the handler's `{ batchItemFailures }` response is read (`ReportBatchItemFailures`). Off, a
   * batch succeeds or fails as a whole. @default true
   */
  readonly reportBatchItemFailures?: boolean;
  /** @default 'local-function' */
  readonly functionName?: string;
  /** The function timeout, for the context's remaining time and for timing invocations out. @default 30 */
  readonly functionTimeoutSeconds?: number;
  /**
   * Receives running at once (1 to 10). Lambda polls with several; one makes batching deterministic.
   * @default 5, or `maximumConcurrency` when lower
   */
  readonly pollers?: number;
  /** The longest a receive waits for messages, in seconds (0 to 20). @default 20 */
  readonly pollWaitTimeSeconds?: number;
  /** Told of errors that fail a batch or a poll; nothing else is done with them. @default logs with console.error */
  readonly onError?: (error: unknown, details: { readonly messageIds: readonly string[] }) => void;
  /** Told of every invocation's result, for tests and stats. */
  readonly onInvocation?: (result: InvocationResult) => void;
}

/** How one invocation ended. */
export interface InvocationResult {
  readonly messageIds: readonly string[];
  /** Messages deleted. */
  readonly deletedIds: readonly string[];
  /** `succeeded`, `partial` (some items failed), or why the whole batch failed. */
  readonly outcome: (typeof INVOCATION_OUTCOME)[keyof typeof INVOCATION_OUTCOME];
  readonly error?: unknown;
}

/** How an invocation ended. */
export const INVOCATION_OUTCOME = {
  succeeded: 'succeeded',
  partial: 'partial',
  threw: 'threw',
  timedOut: 'timed-out',
  invalidResponse: 'invalid-response',
} as const;

const OPTION_KEYS = new Set<string>([
  'sqs',
  'queueUrl',
  'handler',
  'queueArn',
  'batchSize',
  'maximumBatchingWindowSeconds',
  'maximumConcurrency',
  'reportBatchItemFailures',
  'functionName',
  'functionTimeoutSeconds',
  'pollWaitTimeSeconds',
  'pollers',
  'onError',
  'onInvocation',
]);

/** Lambda's payload limit for a synchronous invocation: a batch stops growing before it. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
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
  private slotWaiters: (() => void)[] = [];
  private activeSlots = 0;

  constructor(options: SqsEventSourceMappingOptions) {
    validateMappingOptions(options);
    this.sqs = options.sqs;
    this.queueUrl = options.queueUrl;
    this.handler = options.handler;
    this.fifo = options.queueUrl.endsWith('.fifo');
    this.batchSize = options.batchSize ?? 10;
    this.maximumBatchingWindowSeconds = options.maximumBatchingWindowSeconds ?? 0;
    this.maximumConcurrency = options.maximumConcurrency ?? 5;
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
    for (const wake of this.slotWaiters.splice(0)) wake();
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
    this.region = /^arn:[^:]+:sqs:([^:]+):/.exec(arn)?.[1] ?? this.region;
  }

  private async poll(): Promise<void> {
    while (this.running) {
      await this.acquireSlot();
      if (!this.running) {
        this.releaseSlot();
        return;
      }
      let messages: Message[];
      try {
        messages = await this.gather();
      } catch (error) {
        this.releaseSlot();
        if (!this.running) return;
        this.onError(error, { messageIds: [] });
        await pause(1_000, this.abort.signal);
        continue;
      }
      if (messages.length === 0) {
        this.releaseSlot();
        continue;
      }
      const invocation = this.invoke(messages).finally(() => {
        this.invocations.delete(invocation);
        this.releaseSlot();
      });
      this.invocations.add(invocation);
    }
  }

  /** Receives up to `batchSize` messages, within the batching window once the first has come. */
  private async gather(): Promise<Message[]> {
    const messages: Message[] = [];
    let bytes = 0;
    let windowEnd = 0;
    while (this.running && messages.length < this.batchSize && bytes < MAX_PAYLOAD_BYTES) {
      const first = messages.length === 0;
      const remainingMs = windowEnd - Date.now();
      if (!first && remainingMs <= 0) break;
      const waitSeconds = first
        ? this.pollWaitTimeSeconds
        : Math.max(0, Math.min(20, Math.floor(remainingMs / 1000)));
      const output = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: Math.min(10, this.batchSize - messages.length),
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        first ? { abortSignal: this.abort.signal } : {},
      );
      const received = output.Messages ?? [];
      for (const message of received) {
        messages.push(message);
        bytes += Buffer.byteLength(message.Body ?? '');
      }
      if (first) {
        if (received.length === 0) continue;
        if (this.fifo || this.maximumBatchingWindowSeconds === 0) break;
        windowEnd = Date.now() + this.maximumBatchingWindowSeconds * 1000;
      } else if (received.length === 0 && waitSeconds === 0) {
        await pause(Math.min(50, windowEnd - Date.now()), this.abort.signal);
      }
    }
    return messages;
  }

  private async invoke(messages: readonly Message[]): Promise<void> {
    const records = messages.map((message) => this.toRecord(message));
    const messageIds = records.map((record) => record.messageId);
    this.counters.invocations += 1;
    this.counters.records += records.length;
    this.counters.inFlight += 1;
    this.counters.peakConcurrency = Math.max(this.counters.peakConcurrency, this.counters.inFlight);
    const context = createLambdaContext({
      functionName: this.functionName,
      timeoutMs: this.functionTimeoutMs,
      region: this.region,
    });
    let response: unknown;
    let failure: { outcome: InvocationResult['outcome']; error: unknown } | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), this.functionTimeoutMs);
      });
      response = await Promise.race([
        Promise.resolve().then(() => this.handler({ Records: records }, context)),
        timedOut,
      ]);
      if (response === TIMED_OUT) {
        this.counters.timeouts += 1;
        failure = {
          outcome: INVOCATION_OUTCOME.timedOut,
          error: new Error(`${this.functionName} timed out after ${this.functionTimeoutMs} ms`),
        };
      }
    } catch (error) {
      failure = { outcome: INVOCATION_OUTCOME.threw, error };
    } finally {
      clearTimeout(timer);
      this.counters.inFlight -= 1;
    }

    let toDelete: LambdaSqsRecord[] = [];
    let outcome: InvocationResult['outcome'] = INVOCATION_OUTCOME.succeeded;
    if (failure) {
      outcome = failure.outcome;
    } else if (!this.reportBatchItemFailures) {
      toDelete = records;
    } else {
      const settled = settlePartialBatch(response, messageIds);
      if ('invalid' in settled) {
        outcome = INVOCATION_OUTCOME.invalidResponse;
        failure = { outcome, error: new Error(`invalid partial batch response: ${settled.invalid}`) };
      } else {
        toDelete = records.filter((record) => !settled.failed.has(record.messageId));
        if (settled.failed.size > 0) {
          outcome = INVOCATION_OUTCOME.partial;
          this.counters.failedItems += settled.failed.size;
        }
      }
    }
    if (failure) {
      this.counters.failedBatches += 1;
      this.onError(failure.error, { messageIds });
    }
    const deletedIds = await this.delete(toDelete);
    this.onInvocation?.({ messageIds, deletedIds, outcome, ...(failure ? { error: failure.error } : {}) });
  }

  private async delete(records: readonly LambdaSqsRecord[]): Promise<string[]> {
    const deleted: string[] = [];
    for (let start = 0; start < records.length; start += 10) {
      const chunk = records.slice(start, start + 10);
      try {
        const output = await this.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: chunk.map((record, index) => ({
              Id: String(index),
              ReceiptHandle: record.receiptHandle,
            })),
          }),
        );
        for (const entry of output.Successful ?? []) {
          const record = chunk[Number(entry.Id)];
          if (record) deleted.push(record.messageId);
        }
        if ((output.Failed ?? []).length > 0) {
          const failedIds = (output.Failed ?? []).map((entry) => chunk[Number(entry.Id)]?.messageId ?? '?');
          this.onError(new Error(`could not delete ${failedIds.length} message(s) from ${this.queueUrl}`), {
            messageIds: failedIds,
          });
        }
      } catch (error) {
        this.onError(error, { messageIds: chunk.map((record) => record.messageId) });
      }
    }
    this.counters.deleted += deleted.length;
    return deleted;
  }

  private toRecord(message: Message): LambdaSqsRecord {
    const attributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(message.Attributes ?? {}))
      if (value !== undefined) attributes[name] = value;
    const messageAttributes: Record<string, LambdaSqsMessageAttribute> = {};
    for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
      messageAttributes[name] = {
        ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined
          ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
          : {}),
        stringListValues: value.StringListValues ?? [],
        binaryListValues: (value.BinaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
        dataType: value.DataType ?? 'String',
      };
    }
    return {
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes,
      messageAttributes,
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.queueArn ?? '',
      awsRegion: this.region,
    };
  }

  private acquireSlot(): Promise<void> {
    if (this.activeSlots < this.maximumConcurrency) {
      this.activeSlots += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.slotWaiters.push(() => {
        this.activeSlots += 1;
        resolve();
      });
    });
  }

  private releaseSlot(): void {
    this.activeSlots -= 1;
    this.slotWaiters.shift()?.();
  }
}

const TIMED_OUT = Symbol('timed out');

/**
 * Reads a partial batch response by AWS's rules: which messages failed, or why the whole batch did.
 *
 * @example
 * ```ts
 * settlePartialBatch({ batchItemFailures: [{ itemIdentifier: 'm-2' }] }, ['m-1', 'm-2']); // { failed: Set { 'm-2' } }
 * settlePartialBatch({ batchItemFailures: [{ itemIdentifier: 'other' }] }, ['m-1']); // { invalid: ... }
 * ```
 */
export function settlePartialBatch(
  response: unknown,
  messageIds: readonly string[],
): { readonly failed: ReadonlySet<string> } | { readonly invalid: string } {
  if (response === undefined || response === null) return { failed: new Set() };
  if (typeof response !== 'object' || Array.isArray(response))
    return { invalid: `the response is not an object (given ${describe(response)})` };
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return { failed: new Set() };
  if (!Array.isArray(list)) return { invalid: `batchItemFailures is not a list (given ${describe(list)})` };
  const inBatch = new Set(messageIds);
  const failed = new Set<string>();
  for (const item of list) {
    const identifier =
      typeof item === 'object' && item !== null
        ? (item as { itemIdentifier?: unknown }).itemIdentifier
        : undefined;
    if (typeof identifier !== 'string' || identifier === '')
      return { invalid: `an item has no itemIdentifier (given ${describe(item)})` };
    if (!inBatch.has(identifier))
      return { invalid: `itemIdentifier ${describe(identifier)} is not a message of the batch` };
    failed.add(identifier);
  }
  return { failed };
}

/**
 * Every way the options break AWS's rules for an SQS event source mapping, as messages naming the
 * value given and the allowed range.
 *
 * @example
 * ```ts
 * validateMappingOptions({ sqs, queueUrl: fifoUrl, handler, batchSize: 25 });
 * // throws: batchSize must be between 1 and 10 for a FIFO queue (given 25)
 * ```
 */
export function validateMappingOptions(options: SqsEventSourceMappingOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new ValidationError(`options must be an object (given ${describe(options)})`, options);
  const problems: string[] = [];
  for (const key of Object.keys(options)) if (!OPTION_KEYS.has(key)) problems.push(`unknown option '${key}'`);
  if (!options.sqs || typeof (options.sqs as { send?: unknown }).send !== 'function')
    problems.push('sqs must be an SQSClient');
  if (typeof options.queueUrl !== 'string' || !/^https?:\/\/[^\s/]+\/\S+$/.test(options.queueUrl))
    problems.push(`queueUrl must be an http(s) queue URL (given ${describe(options.queueUrl)})`);
  if (typeof options.handler !== 'function')
    problems.push(`handler must be a function (given ${describe(options.handler)})`);
  const fifo = typeof options.queueUrl === 'string' && options.queueUrl.endsWith('.fifo');
  const whole = (name: string, value: unknown, min: number, max: number, suffix = '') => {
    if (value === undefined) return true;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be between ${min} and ${max}${suffix} (given ${describe(value)})`);
      return false;
    }
    return true;
  };
  if (fifo) whole('batchSize', options.batchSize, 1, 10, ' for a FIFO queue');
  else whole('batchSize', options.batchSize, 1, 10_000);
  const window = options.maximumBatchingWindowSeconds;
  if (fifo && window !== undefined && window !== 0)
    problems.push(
      `maximumBatchingWindowSeconds is not supported on a FIFO queue (given ${describe(window)})`,
    );
  else if (whole('maximumBatchingWindowSeconds', window, 0, 300)) {
    const batchSize = options.batchSize ?? 10;
    if (!fifo && batchSize > 10 && (window ?? 0) < 1)
      problems.push(
        `maximumBatchingWindowSeconds must be at least 1 when batchSize is over 10 (given ${describe(window ?? 0)} with batchSize ${batchSize})`,
      );
  }
  whole('maximumConcurrency', options.maximumConcurrency, 2, 1_000);
  whole('functionTimeoutSeconds', options.functionTimeoutSeconds, 1, 900);
  whole('pollWaitTimeSeconds', options.pollWaitTimeSeconds, 0, 20);
  whole('pollers', options.pollers, 1, 10);
  if (options.functionName !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(options.functionName))
    problems.push(
      `functionName must be 1 to 64 letters, digits, '-' or '_' (given ${describe(options.functionName)})`,
    );
  if (problems.length > 0)
    throw new ValidationError(`invalid SQS event source mapping: ${problems.join('; ')}`, options.queueUrl);
}
