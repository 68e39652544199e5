import {
  type Batch,
  type BatchEvent,
  type ClaimedEvent,
  errorSummary,
  forEachLimited,
} from './dead-letter-batch';

/**
 * Claims each event and writes its pending record; resolves to the events claimed. An event handled
 * before is skipped; the messages of one held elsewhere, or that could not be claimed, come again.
 */
export async function claimEvents(
  batch: Batch,
  events: readonly BatchEvent[],
  claimDurationMs: number,
): Promise<ClaimedEvent[]> {
  const { pipeline, store, logger } = batch;
  const claimed = new Map<BatchEvent, ClaimedEvent>();
  await forEachLimited(events, async (entry) => {
    const eventId = entry.failure.event.id;
    try {
      const result = await store.claim(pipeline, eventId, claimDurationMs, {
        failedAt: entry.failure.failedAt,
        ...(entry.failure.redrive === undefined ? {} : { redrive: entry.failure.redrive }),
      });
      if (result.status === 'handled') {
        batch.skippedAsDuplicates += 1;
        return;
      }
      if (result.status === 'busy') {
        batch.claimedElsewhere += 1;
        for (const id of entry.messageIds) batch.retry.add(id);
        logger.info('failed event is being handed over by another consumer; its message will come again', {
          pipeline,
          eventId,
          claimExpiresAt: result.claimExpiresAt,
        });
        return;
      }
      // The first claim of the event fixed its failure time: the record keeps one key.
      const failure = { ...entry.failure, failedAt: result.claim.failedAt };
      try {
        await store.recordFailure(failure, { dlqMessageId: entry.dlqMessageId });
      } catch (error) {
        await store.release(result.claim).catch(() => false);
        throw error;
      }
      claimed.set(entry, { ...entry, failure, claim: result.claim });
    } catch (error) {
      for (const id of entry.messageIds) batch.retry.add(id);
      logger.error('could not claim or record a failed event; its message will come again', {
        pipeline,
        eventId,
        error: errorSummary(error),
      });
    }
  });
  // In batch order, whatever order the claims finished in.
  return events.flatMap((entry) => claimed.get(entry) ?? []);
}
