import { SluiceError, ValidationError } from '../errors';

/**
 * An SQS call of a `PullConsumer` (or its `onFinallyFailed` handler) that failed for good: after the
 * retries of transient errors, or at once for errors no retry can fix. It names the queue, the
 * operation, and the messages and events involved; `cause` is the underlying error (an
 * `AggregateError` when several calls failed).
 *
 * @example
 * ```ts
 * try {
 *   await consumer.acknowledge(ids);
 * } catch (error) {
 *   if (error instanceof ConsumerError) logger.error('settle failed', { queueUrl: error.queueUrl, eventIds: error.eventIds });
 *   throw error;
 * }
 * ```
 */
export class ConsumerError extends SluiceError {
  readonly queueUrl: string;
  /** What failed: `ReceiveMessage`, `DeleteMessageBatch`, `SendMessageBatch`, `onFinallyFailed`... */
  readonly operations: readonly string[];
  /** The SQS message ids involved. */
  readonly messageIds: readonly string[];
  /** The ids of the events those messages carry. */
  readonly eventIds: readonly string[];

  constructor(
    message: string,
    details: {
      queueUrl: string;
      operations: readonly string[];
      messageIds: readonly string[];
      eventIds: readonly string[];
    },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConsumerError';
    this.queueUrl = details.queueUrl;
    this.operations = details.operations;
    this.messageIds = details.messageIds;
    this.eventIds = details.eventIds;
  }
}

/**
 * Thrown by `reserve()` once `stop()` was called: a stopped consumer takes no more messages.
 *
 * @example
 * ```ts
 * await consumer.stop();
 * await consumer.reserve(10); // throws ConsumerStoppedError
 * ```
 */
export class ConsumerStoppedError extends SluiceError {
  readonly queueUrl: string;

  constructor(queueUrl: string) {
    super(`the consumer of queue ${queueUrl} is stopped: reserve() takes no more messages after stop()`);
    this.name = 'ConsumerStoppedError';
    this.queueUrl = queueUrl;
  }
}

/**
 * Ids given to `acknowledge()` or `fail()` that this consumer does not hold, or that were already
 * settled the other way. Nothing of the call was applied.
 *
 * @example
 * ```ts
 * try {
 *   await consumer.acknowledge([id]);
 * } catch (error) {
 *   if (error instanceof EventNotReservedError) console.warn('not reserved here', error.eventIds);
 * }
 * ```
 */
export class EventNotReservedError extends ValidationError {
  readonly queueUrl: string;
  /** Every id the call was refused for. */
  readonly eventIds: readonly string[];

  constructor(message: string, details: { queueUrl: string; eventIds: readonly string[] }) {
    super(message, details.eventIds);
    this.name = 'EventNotReservedError';
    this.queueUrl = details.queueUrl;
    this.eventIds = details.eventIds;
  }
}

/** A step of a consumer's SQS work that failed, for the `ConsumerError` that reports it. */
export interface Problem {
  readonly operation: string;
  readonly messageIds: readonly string[];
  readonly eventIds: readonly string[];
  readonly detail: string;
  readonly cause: unknown;
}

/** One `ConsumerError` for every step that failed: each named in the message, the causes kept. */
export function toConsumerError(queueUrl: string, problems: readonly Problem[]): ConsumerError {
  const causes = problems.map((problem) => problem.cause).filter((cause) => cause !== undefined);
  const message = problems
    .map(
      (problem) =>
        `${problem.operation} for message(s) ${problem.messageIds.map((id) => JSON.stringify(id)).join(', ')}: ${problem.detail}`,
    )
    .join('; ');
  return new ConsumerError(
    `${problems.length} step(s) failed on queue ${queueUrl}: ${message}`,
    {
      queueUrl,
      operations: [...new Set(problems.map((problem) => problem.operation))],
      messageIds: [...new Set(problems.flatMap((problem) => problem.messageIds))],
      eventIds: [...new Set(problems.flatMap((problem) => problem.eventIds))],
    },
    causes.length === 0
      ? undefined
      : { cause: causes.length === 1 ? causes[0] : new AggregateError(causes, 'several SQS calls failed') },
  );
}
