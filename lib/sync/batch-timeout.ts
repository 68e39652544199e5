import { describe, ValidationError } from '../errors';
import type { SyncCounts } from './types';

/** Options of {@link processBatchWithTimeout}. */
export interface ProcessBatchWithTimeoutOptions<T, R> {
  /** Items run at once; the time budget is checked before each batch. @default 10 */
  readonly batchSize?: number;
  /** True once the time budget is spent (a sync run's `ctx.checkTimeout`). */
  checkTimeout(): boolean;
  /** Processes one item. A throw fails that item only. */
  processItem(item: T, index: number): Promise<R>;
  /** Counters to add `failed` to, when given. */
  readonly counts?: Pick<SyncCounts, 'failed'>;
}

/** What {@link processBatchWithTimeout} did: every item is in exactly one of the three lists. */
export interface BatchTimeoutResult<T, R> {
  /** True when every item was run (whether it succeeded or failed). */
  readonly allDone: boolean;
  readonly succeeded: { readonly item: T; readonly index: number; readonly result: R }[];
  readonly failed: { readonly item: T; readonly index: number; readonly error: unknown }[];
  /** Items not started because the budget ran out, in order: hand them to the next run. */
  readonly remaining: T[];
}

/**
 * Processes items in batches of `batchSize` at once, checking the time budget before each batch and
 * stopping (not failing) when it is spent. Each item's outcome is recorded, and the items left over
 * are returned, so nothing is dropped without a trace.
 *
 * @example
 * ```ts
 * const { allDone, failed, remaining } = await processBatchWithTimeout(invoices, {
 *   batchSize: 25,
 *   checkTimeout: ctx.checkTimeout,
 *   processItem: async (invoice) => sendReminder(invoice),
 *   counts: ctx.counts,
 * });
 * ```
 */
export async function processBatchWithTimeout<T, R>(
  items: readonly T[],
  options: ProcessBatchWithTimeoutOptions<T, R>,
): Promise<BatchTimeoutResult<T, R>> {
  const batchSize = options.batchSize ?? 10;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1_000) {
    throw new ValidationError(
      `batchSize must be a whole number from 1 to 1000 (given ${describe(batchSize)})`,
      batchSize,
    );
  }
  const succeeded: BatchTimeoutResult<T, R>['succeeded'] = [];
  const failed: BatchTimeoutResult<T, R>['failed'] = [];
  for (let start = 0; start < items.length; start += batchSize) {
    if (options.checkTimeout()) {
      return { allDone: false, succeeded, failed, remaining: items.slice(start) };
    }
    const batch = items.slice(start, start + batchSize);
    const outcomes = await Promise.allSettled(
      batch.map((item, offset) => options.processItem(item, start + offset)),
    );
    outcomes.forEach((outcome, offset) => {
      const index = start + offset;
      const item = batch[offset] as T;
      if (outcome.status === 'fulfilled') succeeded.push({ item, index, result: outcome.value });
      else {
        failed.push({ item, index, error: outcome.reason });
        if (options.counts) options.counts.failed += 1;
      }
    });
  }
  return { allDone: true, succeeded, failed, remaining: [] };
}
