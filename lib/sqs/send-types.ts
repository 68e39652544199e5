import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SendFailureReason } from './errors';

/** One message to send. */
export interface OutgoingMessage {
  /**
   * The caller's id for the message, unique within one call (for example the id of the first event it
   * carries). Any string: it is never sent to SQS, which gets the entry's position instead.
   */
  readonly id: string;
  /** The message body: at least one character, of the characters SQS allows. */
  readonly body: string;
  /** Message attributes; their names, data types and values count towards the size limits. */
  readonly attributes?: Readonly<Record<string, MessageAttributeValue>>;
  /** `MessageGroupId`: required on FIFO queues. @default none */
  readonly groupId?: string;
  /**
   * `MessageDeduplicationId` (FIFO queues). Set it, or turn on content-based deduplication, so that a
   * call retried after a network error cannot enqueue a message twice. @default none
   */
  readonly deduplicationId?: string;
  /** `DelaySeconds`, 0 to 900 (standard queues only). @default the queue's delay */
  readonly delaySeconds?: number;
}

/** A message that SQS finally did not accept. */
export interface SendFailure extends SendFailureReason {
  /** The caller's id of the message. */
  readonly id: string;
  /** How many times it was sent. */
  readonly attempts: number;
}

/** What one `sendMessageBatches()` call did. Every input message is in exactly one of the id lists. */
export interface SendMessageBatchesResult {
  /**
   * Ids SQS accepted, in input order. Always a prefix of the input: everything before the first
   * failure, so a caller may move its checkpoint past exactly these.
   */
  acceptedIds: string[];
  /** Messages that were sent and finally refused (sender fault, or retries exhausted), in input order. */
  failed: SendFailure[];
  /** Ids never sent because an earlier message failed (the stop rule). */
  unsentIds: string[];
  /**
   * Ids SQS accepted in the same call as, but after, the first failed message. They are not in
   * `acceptedIds`; sending again from the checkpoint sends them twice.
   */
  acceptedAfterFailureIds: string[];
  /** SendMessageBatch calls made, retries and failed calls included. */
  calls: number;
  /** Payload bytes (bodies plus message attributes) of all calls made, retries included. */
  payloadBytes: number;
  /** Requests SQS bills for those calls: one per started 64 KiB of each call's payload. */
  billedRequests: number;
}
