import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, ValidationError } from '../../errors';
import type { LambdaHandler } from './lambda-context';
import type { LambdaSqsEvent } from './lambda-sqs-records';
import { OptionProblems } from './option-problems';
import type { InvocationOutcome } from './partial-batch-response';

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
  readonly outcome: InvocationOutcome;
  readonly error?: unknown;
}

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
  const problems = new OptionProblems();
  problems.unknownKeys(options, OPTION_KEYS);
  if (!options.sqs || typeof (options.sqs as { send?: unknown }).send !== 'function')
    problems.add('sqs must be an SQSClient');
  if (typeof options.queueUrl !== 'string' || !/^https?:\/\/[^\s/]+\/\S+$/.test(options.queueUrl))
    problems.add(`queueUrl must be an http(s) queue URL (given ${describe(options.queueUrl)})`);
  problems.handler(options.handler);
  const fifo = typeof options.queueUrl === 'string' && options.queueUrl.endsWith('.fifo');
  if (fifo) problems.wholeNumber('batchSize', options.batchSize, 1, 10, ' for a FIFO queue');
  else problems.wholeNumber('batchSize', options.batchSize, 1, 10_000);
  const window = options.maximumBatchingWindowSeconds;
  if (fifo && window !== undefined && window !== 0)
    problems.add(`maximumBatchingWindowSeconds is not supported on a FIFO queue (given ${describe(window)})`);
  else if (problems.wholeNumber('maximumBatchingWindowSeconds', window, 0, 300)) {
    const batchSize = options.batchSize ?? 10;
    if (!fifo && batchSize > 10 && (window ?? 0) < 1)
      problems.add(
        `maximumBatchingWindowSeconds must be at least 1 when batchSize is over 10 (given ${describe(window ?? 0)} with batchSize ${batchSize})`,
      );
  }
  problems.wholeNumber('maximumConcurrency', options.maximumConcurrency, 2, 1_000);
  problems.wholeNumber('functionTimeoutSeconds', options.functionTimeoutSeconds, 1, 900);
  problems.wholeNumber('pollWaitTimeSeconds', options.pollWaitTimeSeconds, 0, 20);
  problems.wholeNumber('pollers', options.pollers, 1, 10);
  if (options.functionName !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(options.functionName))
    problems.add(
      `functionName must be 1 to 64 letters, digits, '-' or '_' (given ${describe(options.functionName)})`,
    );
  problems.throwIfAny('invalid SQS event source mapping', options.queueUrl);
}
