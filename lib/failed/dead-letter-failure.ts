import { type EnvelopeEvent, storedEventOf } from '../messages/envelope';
import { isKeyTime } from '../state/keys';
import { UNKNOWN_FAILURE_MESSAGE } from './constants';
import type { SqsRecordLike } from './records';
import { shortenFailure } from './truncate';
import { type FailedEvent, UNKNOWN_FAILURE_NAME } from './types';

/** One event of a DLQ message, with what is known of the message. */
export interface DeadLetterEventInput {
  readonly pipeline: string;
  readonly stream: string;
  readonly event: EnvelopeEvent;
  /** The redrive the message carries (`Envelope.redrive`), if any. */
  readonly redrive?: string;
  /** The SQS system attributes of the message it came in. */
  readonly attributes?: SqsRecordLike['attributes'];
  /** The time now, in epoch milliseconds. */
  readonly now: number;
}

/**
 * What the failed handler is told of an event found in the DLQ.
 *
 * - An event the worker moved there carries its `lastError` and `attempts` (the last one included):
 *   they are passed on, and it failed at `lastError.at`.
 * - An event SQS moved there by its redrive policy, because the worker never reported (a timeout, a
 *   crash, a whole batch thrown), has no `lastError`: it gets an `UnknownFailure` error at the
 *   message's `SentTimestamp` (or now), its attempts are the message's `ApproximateReceiveCount`
 *   (or the event's own `attempts`, or 1), and it failed now.
 *
 * @example
 * ```ts
 * const failure = deadLetterFailure({ pipeline, stream: envelope.stream, event, attributes: record.attributes, now: Date.now() });
 * failure.lastError.name; // 'UnknownFailure' when no attempt recorded an error
 * ```
 */
export function deadLetterFailure(input: DeadLetterEventInput): FailedEvent {
  const { event, now } = input;
  const stored = storedEventOf(input.stream, event);
  const redrive = input.redrive === undefined ? {} : { redrive: input.redrive };
  if (event.lastError !== undefined) {
    return {
      ...redrive,
      pipeline: input.pipeline,
      event: stored,
      attempts: Math.max(1, event.attempts ?? 1),
      lastError: shortenFailure(event.lastError),
      failedAt: isKeyTime(event.lastError.at) ? Math.floor(event.lastError.at) : now,
    };
  }
  const receiveCount = positiveInteger(input.attributes?.ApproximateReceiveCount);
  const sentAt = positiveInteger(input.attributes?.SentTimestamp);
  return {
    ...redrive,
    pipeline: input.pipeline,
    event: stored,
    attempts: receiveCount ?? Math.max(1, event.attempts ?? 1),
    lastError: {
      name: UNKNOWN_FAILURE_NAME,
      message: UNKNOWN_FAILURE_MESSAGE,
      at: sentAt !== undefined && isKeyTime(sentAt) ? sentAt : now,
    },
    failedAt: now,
  };
}

function positiveInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^[0-9]{1,16}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= 1 ? value : undefined;
}
