import { createHash } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SluiceError } from '../errors';
import { type EnvelopeEvent, envelopeBody, failedEvent, toEventFailure } from '../messages/envelope';
import { SendMessagesError } from '../sqs/errors';
import { findDeadLetterQueue } from '../sqs/redrive-policy';
import { type OutgoingMessage, sendMessageBatches } from '../sqs/send-message-batches';
import { messageGroupIdFor } from './packing';

/**
 * The type an unreadable event (a corrupt item in the log) carries to the failed-event handler: its
 * stored type is not read back with it. Its data is `null`, its last error the `CorruptEventError`.
 */
export const UNREADABLE_EVENT_TYPE = 'sluice.unreadable';

/** The codes of a `DeliveryError`. */
export type DeliveryErrorCode = 'event-not-deliverable' | 'no-dead-letter-queue';

/**
 * An event the fetcher cannot deliver. `code` says which way:
 *
 * - `event-not-deliverable`: the fetcher cannot put event `eventId` on queue `queueUrl`: SQS
 *   refused the message that holds it alone (its size is over the queue's `MaximumMessageSize`, or
 *   it holds characters SQS refuses), or the log cannot read it back. It goes to the dead-letter
 *   queue with this error as its last error.
 * - `no-dead-letter-queue`: queue `queueUrl`, whose events need a dead-letter queue, has none usable.
 *
 * @example
 * ```ts
 * try {
 *   await deadLetterQueueOf(sqs, queueUrl);
 * } catch (error) {
 *   if (error instanceof DeliveryError && error.code === 'no-dead-letter-queue') console.error(`give ${error.queueUrl} a redrive policy`);
 * }
 * ```
 */
export class DeliveryError extends SluiceError {
  declare readonly code: DeliveryErrorCode;
  readonly queueUrl: string;
  /** For `event-not-deliverable`: the event. */
  readonly eventId: string | undefined;

  constructor(
    details:
      | { code: 'event-not-deliverable'; eventId: string; queueUrl: string; reason: string }
      | { code: 'no-dead-letter-queue'; queueUrl: string; reason: string },
    options?: { cause?: unknown },
  ) {
    super(
      details.code === 'event-not-deliverable'
        ? `event ${details.eventId} cannot be put on queue ${details.queueUrl}: ${details.reason}; it goes to the failed-event handler instead`
        : `queue ${details.queueUrl} has no usable dead-letter queue (${details.reason}): an event it cannot take has nowhere to go; give the queue a redrive policy`,
      { cause: options?.cause, code: details.code },
    );
    this.name = 'DeliveryError';
    this.queueUrl = details.queueUrl;
    this.eventId = details.code === 'event-not-deliverable' ? details.eventId : undefined;
  }
}

/**
 * The URL of the dead-letter queue a queue's redrive policy names.
 *
 * @throws `DeliveryError` with code `no-dead-letter-queue` when the queue has no redrive policy.
 *
 * @example
 * ```ts
 * const deadLetterQueueUrl = await deadLetterQueueOf(sqs, pipeline.queueUrl);
 * ```
 */
export async function deadLetterQueueOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const lookup = await findDeadLetterQueue(sqs, queueUrl);
  if (!lookup.found)
    throw new DeliveryError({ code: 'no-dead-letter-queue', queueUrl, reason: lookup.reason });
  return lookup.url;
}

/** What {@link deadLetterEvent} sends, and where it came from. */
export interface UndeliverableEvent {
  readonly pipeline: string;
  readonly stream: string;
  readonly epoch: number;
  readonly fifo: boolean;
  /** The event as it would have travelled. */
  readonly event: EnvelopeEvent;
  /** Why it cannot travel on the pipeline's queue. */
  readonly error: Error;
  /** @default Date.now() */
  readonly at?: number;
}

/**
 * Puts an event that cannot travel on its pipeline's queue on the dead-letter queue, with no attempt
 * made and the error as its last error, so that the failed-event handler gets it and records it.
 * If the dead-letter queue refuses its data too, the event goes without its data (`data: null`), and
 * its last error says so: the data stays in the event log under the event's id. Sending it again is
 * harmless: the failed-event handler takes an event once.
 *
 * @throws `SendMessagesError` when the dead-letter queue takes neither.
 *
 * @example
 * ```ts
 * await deadLetterEvent(sqs, deadLetterQueueUrl, { pipeline: 'billing', stream: 'orders', epoch: 0, fifo: false, event, error });
 * ```
 */
export async function deadLetterEvent(
  sqs: SQSClient,
  deadLetterQueueUrl: string,
  undeliverable: UndeliverableEvent,
): Promise<void> {
  const { pipeline, stream, epoch, fifo, event, error } = undeliverable;
  const at = undeliverable.at ?? Date.now();
  const message = (data: unknown, failure: Error): OutgoingMessage => ({
    id: event.id,
    body: envelopeBody({ pipeline, stream, epoch }, [
      failedEvent({ ...event, data }, 0, toEventFailure(failure, at, 'UnknownFailure')),
    ]),
    ...(fifo
      ? {
          groupId: messageGroupIdFor(event.partitionKey ?? stream),
          deduplicationId: createHash('sha256').update(`${pipeline}#${epoch}#dead#${event.id}`).digest('hex'),
        }
      : {}),
  });
  try {
    await sendMessageBatches(sqs, deadLetterQueueUrl, [message(event.data, error)], { throwOnFailure: true });
    return;
  } catch (refused) {
    const senderFault =
      refused instanceof SendMessagesError
        ? Object.values(refused.failures).some((failure) => failure.senderFault)
        : refused instanceof SluiceError; // refused before sending: too large for any queue
    if (!senderFault) throw refused;
  }
  const withoutData = Object.assign(
    new Error(
      `${error.message} (its data is left out: the dead-letter queue refused it too; read it from the event log by its id)`,
    ),
    { name: error.name },
  );
  await sendMessageBatches(sqs, deadLetterQueueUrl, [message(null, withoutData)], { throwOnFailure: true });
}
