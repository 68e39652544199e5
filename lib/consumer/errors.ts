import { SluiceError } from '../errors';

/** The codes of a `ConsumerError`. */
export type ConsumerErrorCode = 'consumer-call-failed' | 'consumer-stopped' | 'event-not-reserved';

/**
 * An error of a `PullConsumer`. `code` says which:
 *
 * - `consumer-call-failed`: an SQS call (or the `onFinallyFailed` handler) that failed for good,
 *   after the retries of transient errors, or at once for errors no retry can fix. `operations`
 *   names what failed, `messageIds` and `eventIds` the messages and events involved; `cause` is the
 *   underlying error (an `AggregateError` when several calls failed).
 * - `consumer-stopped`: `reserve()` was called after `stop()`: a stopped consumer takes no more messages.
 * - `event-not-reserved`: ids given to `acknowledge()` or `fail()` that this consumer does not
 *   hold, or that were already settled the other way; `eventIds` lists every id refused. Nothing of
 *   the call was applied.
 *
 * @example
 * ```ts
 * try {
 *   await consumer.acknowledge(ids);
 * } catch (error) {
 *   if (error instanceof ConsumerError && error.code === 'event-not-reserved') console.warn('not reserved here', error.eventIds);
 *   else if (error instanceof ConsumerError) logger.error('settle failed', { queueUrl: error.queueUrl, eventIds: error.eventIds });
 *   throw error;
 * }
 * ```
 */
export class ConsumerError extends SluiceError {
  declare readonly code: ConsumerErrorCode;
  readonly queueUrl: string;
  /** What failed: `ReceiveMessage`, `DeleteMessageBatch`, `SendMessageBatch`, `onFinallyFailed`... (empty for other codes) */
  readonly operations: readonly string[];
  /** The SQS message ids involved. */
  readonly messageIds: readonly string[];
  /** The ids of the events involved: for `event-not-reserved`, every id the call was refused for. */
  readonly eventIds: readonly string[];

  constructor(
    message: string,
    details: {
      code?: ConsumerErrorCode;
      queueUrl: string;
      operations?: readonly string[];
      messageIds?: readonly string[];
      eventIds?: readonly string[];
    },
    options?: { cause?: unknown },
  ) {
    super(message, { cause: options?.cause, code: details.code ?? 'consumer-call-failed' });
    this.name = 'ConsumerError';
    this.queueUrl = details.queueUrl;
    this.operations = details.operations ?? [];
    this.messageIds = details.messageIds ?? [];
    this.eventIds = details.eventIds ?? [];
  }

  /** The error `reserve()` throws once `stop()` was called: code `consumer-stopped`. */
  static stopped(queueUrl: string): ConsumerError {
    return new ConsumerError(
      `the consumer of queue ${queueUrl} is stopped: reserve() takes no more messages after stop()`,
      { code: 'consumer-stopped', queueUrl },
    );
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
