import type { FailureStatus } from './constants';
import type { FailedEvent } from './types';

/**
 * The parts of a Lambda SQS event record the DLQ consumer reads (the shape of `SQSRecord` in
 * `@types/aws-lambda`, of which only these fields are needed).
 *
 * @example
 * ```ts
 * const record: SqsRecordLike = { messageId: message.MessageId!, body: message.Body!, attributes: message.Attributes };
 * ```
 */
export interface SqsRecordLike {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: {
    /** How many times SQS handed the message out, this time included. */
    readonly ApproximateReceiveCount?: string;
    /** When the message was first sent, in epoch milliseconds. */
    readonly SentTimestamp?: string;
  };
}

/**
 * The record the failure store keeps of one event that reached the DLQ, as `listFailures()` returns it.
 *
 * @example
 * ```ts
 * const { failures } = await store.listFailures('billing');
 * for (const { event, lastError, status } of failures) console.log(event.id, lastError.name, status);
 * ```
 */
export interface FailureRecord<TData = unknown> extends FailedEvent<TData> {
  /** `pending` until the failed handler accepted the event, then `handled`; `redriven` once sent back. */
  readonly status: FailureStatus;
  /** The id of the DLQ message the event came in (the latest one seen). */
  readonly dlqMessageId?: string;
  /** When the failed handler accepted it, in epoch milliseconds. */
  readonly handledAt?: number;
  /**
   * True when the event's data was too large to keep in the record, which then holds no `data`. The
   * failed handler was given the data whole.
   */
  readonly dataOmitted?: boolean;
  /** When a redrive sent the event back to its pipeline's queue, in epoch milliseconds. */
  readonly redrivenAt?: number;
  /** The redrive identity it was sent back with: a later failure of it carries it as `redrive`. */
  readonly redrivenAs?: string;
}

/**
 * The record of a DLQ message whose body is not a Sluice envelope: kept so that it is not lost, and
 * deleted from the queue only once recorded.
 *
 * @example
 * ```ts
 * const { records } = await store.listMalformed('billing');
 * for (const { messageId, error } of records) console.log(messageId, error.message);
 * ```
 */
export interface MalformedRecord {
  readonly pipeline: string;
  readonly messageId: string;
  /** The body, cut to 64 KiB of UTF-8 when longer. */
  readonly body: string;
  /** The size of the whole body, in bytes of UTF-8. */
  readonly bodyBytes: number;
  /** True when `body` is cut. */
  readonly bodyTruncated: boolean;
  /** Why it is not a Sluice envelope. */
  readonly error: { readonly name: string; readonly message: string };
  /** When it was received (the message's `SentTimestamp` when known), in epoch milliseconds. */
  readonly receivedAt: number;
}

/** A consumer's hold on a failed event, from `FailureStore.claim()`. */
export interface Claim {
  readonly pipeline: string;
  readonly eventId: string;
  /** Identifies this holder: only it can mark the event handled or release it. */
  readonly token: string;
  /** When the hold ends unless the event is marked handled first, in epoch milliseconds. */
  readonly expiresAt: number;
  /** When the event was given up on, fixed by its first claim, in epoch milliseconds. */
  readonly failedAt: number;
  /** The redrive the event failed after, if any: part of the claim's key. */
  readonly redrive?: string;
}

/**
 * What `FailureStore.claim()` found: the event is now this caller's, was handled already, or is held
 * by another consumer until `claimExpiresAt`.
 */
export type ClaimResult =
  | { readonly status: 'claimed'; readonly claim: Claim }
  | { readonly status: 'handled'; readonly handledAt?: number }
  | { readonly status: 'busy'; readonly claimExpiresAt: number };

/** Which records a listing returns. */
export interface ListRecordsOptions {
  /**
   * The oldest time to include (epoch milliseconds or a `Date`).
   * @default 30 days before `to`
   */
  readonly from?: Date | number;
  /**
   * The newest time to include.
   * @default now
   */
  readonly to?: Date | number;
  /** At most this many records, 1 to 1000. @default 100 */
  readonly limit?: number;
  /** A cursor from the previous page of the same listing, to go on from there. @default the newest */
  readonly cursor?: string;
}

/** One page of failure records, newest first; `cursor` is set when there may be more. */
export interface FailurePage<TData = unknown> {
  readonly failures: FailureRecord<TData>[];
  readonly cursor?: string;
}

/** One page of malformed message records, newest first; `cursor` is set when there may be more. */
export interface MalformedPage {
  readonly records: MalformedRecord[];
  readonly cursor?: string;
}

/** Structured logging, as Powertools Logger offers it. */
export interface FailedEventLogger {
  debug(message: string, ...extra: unknown[]): void;
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  error(message: string, ...extra: unknown[]): void;
}
