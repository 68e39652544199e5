import { type Envelope, MalformedMessageError, parseEnvelope } from '../messages/envelope';
import { type MarkerStore, type MessageMarker, markerKeyOf } from '../worker/marker-store';
import { type Batch, type BatchEvent, errorSummary, forEachLimited } from './dead-letter-batch';
import { type EnvelopeRecord, movedBySqs, planDeadLetterEvents } from './dead-letter-plan';
import type { SqsRecordLike } from './records';

/** Splits the records into envelopes and the bodies that are not envelopes. */
export function parseRecords(
  batch: Batch,
  records: readonly SqsRecordLike[],
): {
  envelopes: EnvelopeRecord[];
  malformed: { record: SqsRecordLike; error: MalformedMessageError }[];
} {
  const envelopes: EnvelopeRecord[] = [];
  const malformed: { record: SqsRecordLike; error: MalformedMessageError }[] = [];
  for (const record of records) {
    let envelope: Envelope;
    try {
      envelope = parseEnvelope(record.body, record.messageId);
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      malformed.push({ record, error });
      continue;
    }
    if (envelope.pipeline !== batch.pipeline) {
      batch.logger.warn('dead-letter message carries events of another pipeline; handled as this one', {
        pipeline: batch.pipeline,
        envelopePipeline: envelope.pipeline,
        messageId: record.messageId,
      });
    }
    envelopes.push({ record, envelope });
  }
  return { envelopes, malformed };
}

/**
 * The distinct failed events of the batch, by {@link planDeadLetterEvents}. The markers of the
 * messages SQS moved are read first; a message whose marker cannot be read comes again.
 */
export async function failedEvents(
  batch: Batch,
  envelopes: readonly EnvelopeRecord[],
  markers: MarkerStore,
  now: number,
): Promise<BatchEvent[]> {
  const moved = envelopes.filter(({ envelope }) => movedBySqs(envelope));
  let found: Map<string, MessageMarker> | undefined = new Map();
  if (moved.length > 0) {
    try {
      found = await markers.getMany(
        batch.pipeline,
        moved.map(({ envelope }) => markerKeyOf(envelope)),
      );
    } catch (error) {
      found = undefined;
      batch.logger.error('could not read the markers of messages SQS moved; they will come again', {
        pipeline: batch.pipeline,
        error: errorSummary(error),
      });
    }
  }
  const plan = planDeadLetterEvents(envelopes, found, batch.pipeline, now);
  for (const id of plan.retry) batch.retry.add(id);
  batch.completedBefore += plan.completedBefore;
  return plan.events;
}

/** Records each malformed message; one that cannot be recorded stays in the queue. */
export async function recordMalformed(
  batch: Batch,
  malformed: readonly { record: SqsRecordLike; error: MalformedMessageError }[],
): Promise<void> {
  const { pipeline, logger } = batch;
  await forEachLimited(malformed, async ({ record, error }) => {
    try {
      const recorded = await batch.store.recordMalformed({
        pipeline,
        messageId: record.messageId,
        body: record.body,
        error: { name: error.name, message: error.message },
        ...receivedAt(record),
      });
      batch.malformed += 1;
      logger.error('dead-letter message is not a Sluice envelope: recorded, and removed from the queue', {
        pipeline,
        messageId: record.messageId,
        error: error.message,
        bodyBytes: recorded.bodyBytes,
      });
    } catch (storeError) {
      batch.retry.add(record.messageId);
      logger.error(
        'dead-letter message is not a Sluice envelope, and could not be recorded: kept in the queue',
        { pipeline, messageId: record.messageId, error: error.message, storeError: errorSummary(storeError) },
      );
    }
  });
}

function receivedAt(record: SqsRecordLike): { receivedAt?: number } {
  const sent = record.attributes?.SentTimestamp;
  return sent !== undefined && /^[0-9]{1,16}$/.test(sent) ? { receivedAt: Number(sent) } : {};
}
