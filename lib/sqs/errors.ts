import { SluiceError } from '../errors';

/** Why SQS did not accept one message. */
export interface SendFailureReason {
  /** The SQS error code of the last attempt, such as `InvalidParameterValue` or `QueueDoesNotExist`. */
  readonly code: string;
  readonly message: string;
  /** True when the request was at fault (sending it again unchanged will fail again). */
  readonly senderFault: boolean;
}

/**
 * Messages that SQS did not accept, thrown by `sendMessageBatches()` when `throwOnFailure` is set.
 * `acceptedIds` is the prefix of the input that SQS accepted, in order: a caller may move its
 * checkpoint past exactly those.
 *
 * @example
 * ```ts
 * try {
 *   await sendMessageBatches(sqs, queueUrl, messages, { throwOnFailure: true });
 * } catch (error) {
 *   if (error instanceof SendMessagesError) await checkpoint(error.acceptedIds.at(-1));
 *   throw error;
 * }
 * ```
 */
export class SendMessagesError extends SluiceError {
  declare readonly code: 'messages-not-accepted';
  readonly queueUrl: string;
  /** Ids SQS accepted, in input order: always a prefix of the input. */
  readonly acceptedIds: readonly string[];
  /** Ids of messages that were sent and finally refused (sender fault, or retries exhausted), in input order. */
  readonly failedIds: readonly string[];
  /** Ids that were never sent because an earlier message failed. */
  readonly unsentIds: readonly string[];
  /**
   * Ids SQS accepted in the same call as, but after, the first failed message: not in `acceptedIds`,
   * so sending again from the checkpoint sends them twice.
   */
  readonly acceptedAfterFailureIds: readonly string[];
  /** The last failure of each id in `failedIds`. */
  readonly failures: Readonly<Record<string, SendFailureReason>>;

  constructor(
    details: {
      queueUrl: string;
      acceptedIds: readonly string[];
      failed: readonly ({ id: string } & SendFailureReason)[];
      unsentIds: readonly string[];
      acceptedAfterFailureIds: readonly string[];
    },
    options?: { cause?: unknown },
  ) {
    const first = details.failed[0];
    const notAccepted = details.failed.length + details.unsentIds.length;
    const firstFailure = first
      ? `; first failure: message ${JSON.stringify(first.id)}: ${first.code}${first.senderFault ? ' (sender fault)' : ''}: ${first.message}`
      : '';
    super(
      `${notAccepted} message(s) not accepted by queue ${details.queueUrl} (${details.failed.length} failed, ${details.unsentIds.length} not sent after the failure, ${details.acceptedIds.length} accepted before it)${firstFailure}`,
      { cause: options?.cause, code: 'messages-not-accepted' },
    );
    this.name = 'SendMessagesError';
    this.queueUrl = details.queueUrl;
    this.acceptedIds = details.acceptedIds;
    this.failedIds = details.failed.map((failure) => failure.id);
    this.unsentIds = details.unsentIds;
    this.acceptedAfterFailureIds = details.acceptedAfterFailureIds;
    this.failures = Object.fromEntries(
      details.failed.map(({ id, code, message, senderFault }) => [id, { code, message, senderFault }]),
    );
  }
}
