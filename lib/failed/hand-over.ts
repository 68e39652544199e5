import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { describe, LeaseLostError, ValidationError } from '../errors';
import type { EventLog } from '../event-log/event-log';
import type { EventInput } from '../event-log/types';
import { withRetry } from '../retry/with-retry';
import { type Batch, type ClaimedEvent, errorSummary, forEachLimited } from './dead-letter-batch';
import { afterMarkFailure } from './dead-letter-plan';
import type { FailureStore } from './failure-store';
import type { FailedEventLogger } from './records';
import { DEAD_LETTER_STEPS, type DeadLetterStepHook, type FailedEvent, type FailedHandler } from './types';

/**
 * Calls the failed handler once with every claimed event, then marks each handled; resolves to the
 * number handed over. If the handler throws, the claims are released and their messages come again.
 */
export async function handOver<TData>(
  batch: Batch,
  claimed: readonly ClaimedEvent[],
  failedHandler: FailedHandler<TData>,
  requestId: string,
  onStep: DeadLetterStepHook | undefined,
  eventLog: EventLog | undefined,
): Promise<number> {
  if (claimed.length === 0) return 0;
  const { pipeline, store, logger } = batch;
  const failures = claimed.map((entry) => entry.failure) as FailedEvent<TData>[];
  const eventIds = failures.map((failure) => failure.event.id);
  await onStep?.(DEAD_LETTER_STEPS.afterClaim, { pipeline, eventIds });
  const outputs = new Map<string, EventInput[]>();
  const handedOver = new Set(eventIds);
  const commit = (eventId: string, events: EventInput | readonly EventInput[]): void => {
    if (!handedOver.has(eventId))
      throw new ValidationError(
        `context.commit: ${describe(eventId)} is not the id of a failure handed over in this call`,
        eventId,
      );
    if (!eventLog)
      throw new ValidationError(
        'context.commit needs an event log: set SLUICE_EVENT_LOG_TABLE, or pass eventLog',
        eventId,
      );
    const list = outputs.get(eventId) ?? [];
    list.push(...(Array.isArray(events) ? events : [events as EventInput]));
    outputs.set(eventId, list);
  };
  try {
    await failedHandler(failures, { pipeline, requestId, commit });
  } catch (error) {
    logger.error('the failed handler threw; its events will be handed over again', {
      pipeline,
      eventIds: claimed.map((entry) => entry.failure.event.id),
      error: errorSummary(error),
    });
    for (const entry of claimed) for (const id of entry.messageIds) batch.retry.add(id);
    await forEachLimited(claimed, async (entry) => {
      await store.release(entry.claim).catch((releaseError: unknown) => {
        logger.warn('could not release a claim; the event waits for it to expire', {
          pipeline,
          eventId: entry.failure.event.id,
          error: errorSummary(releaseError),
        });
      });
    });
    return 0;
  }
  await onStep?.(DEAD_LETTER_STEPS.afterFailedHandler, { pipeline, eventIds });
  let handled = 0;
  await forEachLimited(claimed, async (entry) => {
    const committed = outputs.get(entry.failure.event.id) ?? [];
    const marked = await markHandled(
      store,
      entry,
      logger,
      committed.length > 0 && eventLog ? (writes) => eventLog.commitWith(committed, writes) : undefined,
    );
    if (marked === 'retry') for (const id of entry.messageIds) batch.retry.add(id);
    else handled += 1;
  });
  return handled;
}

/**
 * Marks one handed-over event handled, with what the handler committed for it when there is any.
 * Without commits, its message is done whatever happens here: the handler has the event, and
 * delivering it again could only hand it over twice. With commits that failed to land, it must come
 * again, or what the handler committed would be lost.
 */
async function markHandled(
  store: FailureStore,
  entry: ClaimedEvent,
  logger: FailedEventLogger,
  transact: ((writes: TransactWriteItem[]) => Promise<unknown>) | undefined,
): Promise<'done' | 'retry'> {
  const eventId = entry.failure.event.id;
  try {
    await withRetry(
      () =>
        store.markHandled(entry.claim, entry.failure, {
          dlqMessageId: entry.dlqMessageId,
          ...(transact ? { transact } : {}),
        }),
      { preset: 'aws', name: 'mark failed event handled' },
    );
    return 'done';
  } catch (error) {
    const next = afterMarkFailure(isClaimLost(error), transact !== undefined);
    if (next === 'claimLost') {
      logger.warn('claim lost while the failed handler ran: the event may have been handed over twice', {
        pipeline: entry.failure.pipeline,
        eventId,
        error: (error as Error).message,
      });
      return 'done';
    }
    if (next === 'handOverAgain') {
      // What the handler committed did not land with the mark: the event must be handed over again.
      logger.error('handed over, but its commit and mark failed: it will be handed over again', {
        pipeline: entry.failure.pipeline,
        eventId,
        error: errorSummary(error),
      });
      return 'retry';
    }
    logger.error('handed over, but could not be marked handled: its record stays pending', {
      pipeline: entry.failure.pipeline,
      eventId,
      error: errorSummary(error),
    });
    return 'done';
  }
}

/** Whether marking an event handled failed because its failed-event claim was lost. */
function isClaimLost(error: unknown): boolean {
  return error instanceof LeaseLostError && error.lease === 'failed-event claim';
}
