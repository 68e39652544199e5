import type { Envelope, EnvelopeEvent } from '../messages/envelope';
import { type MessageMarker, markerKeyOf } from '../worker/marker-store';
import type { BatchEvent } from './dead-letter-batch';
import { deadLetterFailure } from './dead-letter-failure';
import type { SqsRecordLike } from './records';

/** One DLQ message whose body is a Sluice envelope. */
export interface EnvelopeRecord {
  readonly record: SqsRecordLike;
  readonly envelope: Envelope;
}

/** Which events of a batch go on to be claimed and handed over, and which messages must come again. */
export interface DeadLetterEventPlan {
  /** The distinct events to hand over, in batch order. */
  readonly events: BatchEvent[];
  /** Messages SQS moved whose markers could not be read: delivered again, not handed over now. */
  readonly retry: string[];
  /** Events left out because the worker's marker lists them as completed. */
  readonly completedBefore: number;
}

/**
 * Whether SQS moved the message to the DLQ by the queue's redrive policy, rather than a worker that
 * gave up on it: some event of it carries no `lastError`. Such a message may have partly succeeded.
 *
 * @example
 * ```ts
 * if (envelopes.some(({ envelope }) => movedBySqs(envelope))) await markers.getMany(pipeline, keys);
 * ```
 */
export function movedBySqs(envelope: Envelope): boolean {
  return envelope.events.some((event) => !event.lastError);
}

/**
 * The distinct failed events of a batch. An event with a `lastError` was put in the DLQ by a worker
 * that gave up on it, and is handed over. One without came in a message SQS moved: it is left out when
 * the worker's marker of that message (in `markers`, by `markerKeyOf`) lists it as completed, or the
 * whole marker is `done`. When the markers could not be read (`markers` undefined), every message SQS
 * moved comes again. An event appears once however many messages of the batch carry it, per life (its
 * first delivery, and each redrive that sent it back).
 *
 * @example
 * ```ts
 * const plan = planDeadLetterEvents(envelopes, await markers.getMany(pipeline, keys), 'billing', Date.now());
 * plan.events.map(({ failure }) => failure.event.id);
 * ```
 */
export function planDeadLetterEvents(
  envelopes: readonly EnvelopeRecord[],
  markers: ReadonlyMap<string, MessageMarker> | undefined,
  pipeline: string,
  now: number,
): DeadLetterEventPlan {
  const events = new Map<string, BatchEvent>();
  const retry: string[] = [];
  let completedBefore = 0;
  for (const { record, envelope } of envelopes) {
    const moved = movedBySqs(envelope);
    if (moved && markers === undefined) {
      retry.push(record.messageId);
      continue;
    }
    const marker = moved ? markers?.get(markerKeyOf(envelope)) : undefined;
    for (const event of envelope.events) {
      const completed =
        event.lastError === undefined &&
        marker !== undefined &&
        (marker.status === 'done' || marker.completedIds.has(event.id));
      if (completed) completedBefore += 1;
      else addEvent(events, record, envelope, event, pipeline, now);
    }
  }
  return { events: [...events.values()], retry, completedBefore };
}

function addEvent(
  events: Map<string, BatchEvent>,
  record: SqsRecordLike,
  envelope: Envelope,
  event: EnvelopeEvent,
  pipeline: string,
  now: number,
): void {
  // An event is failed once per life: its first delivery, and each redrive that sent it back.
  const identity = `${event.id}#${envelope.redrive ?? ''}`;
  const known = events.get(identity);
  if (known) {
    // The same event twice in one batch (a message delivered twice, or packed twice): one hand-over.
    if (!known.messageIds.includes(record.messageId)) known.messageIds.push(record.messageId);
    return;
  }
  events.set(identity, {
    failure: deadLetterFailure({
      pipeline,
      stream: envelope.stream,
      event,
      ...(envelope.redrive === undefined ? {} : { redrive: envelope.redrive }),
      ...(record.attributes === undefined ? {} : { attributes: record.attributes }),
      now,
    }),
    dlqMessageId: record.messageId,
    messageIds: [record.messageId],
  });
}

/**
 * What to do with an event the failed handler accepted but that could not be marked handled:
 *
 * - `claimLost`: the claim expired while the handler ran, so another consumer may have handed the
 *   event over too; its message is done.
 * - `handOverAgain`: what the handler committed for it did not land with the mark; its message comes
 *   again, or the commit would be lost.
 * - `leavePending`: nothing was committed; its message is done (delivering it again could only hand
 *   it over twice), and its record stays `pending`.
 *
 * @example
 * ```ts
 * afterMarkFailure(error instanceof LeaseLostError && error.lease === 'failed-event claim', transact !== undefined); // 'claimLost' when the claim expired
 * ```
 */
export function afterMarkFailure(
  claimLost: boolean,
  withCommits: boolean,
): 'claimLost' | 'handOverAgain' | 'leavePending' {
  if (claimLost) return 'claimLost';
  return withCommits ? 'handOverAgain' : 'leavePending';
}

/**
 * The SQS partial-batch response: each record whose message must come again, once, in batch order.
 *
 * @example
 * ```ts
 * batchItemFailuresOf(records, new Set(['m-2'])); // [{ itemIdentifier: 'm-2' }]
 * ```
 */
export function batchItemFailuresOf(
  records: readonly SqsRecordLike[],
  retry: ReadonlySet<string>,
): { itemIdentifier: string }[] {
  return records
    .filter((record, index) => retry.has(record.messageId) && firstIndexOf(records, record) === index)
    .map((record) => ({ itemIdentifier: record.messageId }));
}

function firstIndexOf(records: readonly SqsRecordLike[], record: SqsRecordLike): number {
  return records.findIndex((other) => other.messageId === record.messageId);
}
