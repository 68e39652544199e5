import { randomUUID } from 'node:crypto';
import { claimEvents } from './claim-dead-letters';
import { DEFAULT_CLAIM_DURATION_MS } from './constants';
import { type Batch, NOOP_LOGGER } from './dead-letter-batch';
import { failedEvents, parseRecords, recordMalformed } from './dead-letter-events';
import { checkDeadLetterOptions, type HandleDeadLettersOptions } from './dead-letter-options';
import { batchItemFailuresOf } from './dead-letter-plan';
import { handOver } from './hand-over';
import type { SqsRecordLike } from './records';

export type { HandleDeadLettersOptions } from './dead-letter-options';

/**
 * What {@link handleDeadLetters} did: the SQS partial-batch response (`batchItemFailures`, the messages
 * SQS must deliver again), and counts of events.
 */
export interface DeadLetterBatchResult {
  /** Messages to deliver again: their events were not all handed over or recorded. */
  readonly batchItemFailures: { itemIdentifier: string }[];
  /** Events the failed handler accepted in this call. */
  readonly handled: number;
  /** Events skipped because they had been handed over before (a message delivered again). */
  readonly skippedAsDuplicates: number;
  /** Events held by another consumer at the moment; their messages are delivered again. */
  readonly claimedElsewhere: number;
  /** Messages whose body is not a Sluice envelope: recorded, logged, and not delivered again. */
  readonly malformed: number;
  /**
   * Events left out because the worker had completed them: SQS moved a message that had partly
   * succeeded, and its marker lists them. They had their effect, so they are not failures.
   */
  readonly completedBefore: number;
}

/**
 * Handles a batch of messages from a pipeline's dead-letter queue, for a Lambda function with
 * `ReportBatchItemFailures` on: each event that kept failing reaches the failed handler exactly once,
 * with its last error, however often its message is delivered.
 *
 * 1. Each body is parsed. One that is not a Sluice envelope is recorded (`recordMalformed`), logged
 *    at error level and counted; once recorded, its message is done.
 * 2. An event without a `lastError` came in a message SQS moved there (the worker never reported on
 *    it): the worker's marker of that message is read, and the events it completed are left out, so
 *    an event whose effect landed is never handed over too.
 * 3. Each event is claimed in the store (once per life: a redriven event that fails again is claimed
 *    anew under its redrive's identity). An event handled before is skipped; one held by another
 *    consumer makes its message come back later. Claimed events get a `pending` failure record.
 * 4. The failed handler is called once, with every claimed event of the batch.
 * 5. If it returns, each event is marked handled (its record turns `handled`) and its messages are
 *    done. If it throws, the claims are released and their messages reported in `batchItemFailures`,
 *    so SQS delivers them again and the events are handed over then.
 *
 * A message is done (left out of `batchItemFailures`, so SQS deletes it) only when every one of its
 * events was handed over now or before; nothing is dropped silently.
 *
 * @throws `ValidationError` naming every bad option, before anything is read or written.
 *
 * @example
 * ```ts
 * const store = new FailureStore({ tableName: process.env.SLUICE_STATE_TABLE! });
 * export const handler = async (event: { Records: SqsRecordLike[] }) => {
 *   const { batchItemFailures } = await handleDeadLetters(event.Records, {
 *     pipeline: 'billing',
 *     store,
 *     failedHandler: async (failures) => {
 *       for (const { event, lastError } of failures) await alertOps(`${event.id}: ${lastError.message}`);
 *     },
 *   });
 *   return { batchItemFailures };
 * };
 * ```
 */
export async function handleDeadLetters<TData = unknown>(
  records: readonly SqsRecordLike[],
  options: HandleDeadLettersOptions<TData>,
): Promise<DeadLetterBatchResult> {
  checkDeadLetterOptions(records, options);
  const batch: Batch = {
    pipeline: options.pipeline,
    store: options.store,
    logger: options.logger ?? NOOP_LOGGER,
    retry: new Set(),
    skippedAsDuplicates: 0,
    claimedElsewhere: 0,
    malformed: 0,
    completedBefore: 0,
  };
  const { envelopes, malformed } = parseRecords(batch, records);
  await recordMalformed(batch, malformed);
  const events = await failedEvents(
    batch,
    envelopes,
    options.markers ?? options.store.markerStore(),
    (options.clock ?? Date.now)(),
  );
  const claimed = await claimEvents(batch, events, options.claimDurationMs ?? DEFAULT_CLAIM_DURATION_MS);
  const handled = await handOver(
    batch,
    claimed,
    options.failedHandler,
    options.requestId ?? randomUUID(),
    options.onStep,
    options.eventLog,
  );
  return {
    batchItemFailures: batchItemFailuresOf(records, batch.retry),
    handled,
    skippedAsDuplicates: batch.skippedAsDuplicates,
    claimedElsewhere: batch.claimedElsewhere,
    malformed: batch.malformed,
    completedBefore: batch.completedBefore,
  };
}
