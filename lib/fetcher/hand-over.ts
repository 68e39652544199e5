import type { PipelineState } from '../state/types';
import { type ActivePipeline, type FetcherContext, retry } from './context';

// Handing over between fetchers (`docs/wake-on-commit.md`, "Handing over"): a run woken for new
// events that finds the lease held leaves them to the holder, unless the holder is leaving; a holder
// marks its lease as leaving, then looks for events committed past its position before it gives the
// lease up, and stays for them, or hands them over, when there are some.

/** What a run woken for new events does about a pipeline whose lease it could not take. */
export const LOCKED_LEASE_ACTION = {
  /** The lease is free now (given up, or expired): take it. */
  retry: 'retry',
  /** The holder is giving the lease up, or may leave without looking: wait to take it. */
  wait: 'wait',
  /** The holder will look for the new events before it leaves: leave them to it. */
  handOver: 'hand-over',
} as const;
export type LockedLeaseAction = (typeof LOCKED_LEASE_ACTION)[keyof typeof LOCKED_LEASE_ACTION];

/**
 * What a woken run does about a pipeline whose lease was held when it tried to take it, from the
 * state read (strongly consistent) just after: it leaves its events only to a holder whose lease says
 * it looks for unread events before leaving and that is not leaving yet; it waits for any other.
 *
 * @example
 * ```ts
 * lockedLeaseAction(await store.getState('billing'), Date.now()); // 'hand-over'
 * ```
 */
export function lockedLeaseAction(
  state:
    | Pick<PipelineState, 'leaseOwner' | 'leaseExpiresAt' | 'leaseLeaving' | 'leaseLooksBeforeLeaving'>
    | undefined,
  now: number,
): LockedLeaseAction {
  if (!state || state.leaseOwner === undefined || state.leaseExpiresAt <= now)
    return LOCKED_LEASE_ACTION.retry;
  if (state.leaseLeaving || !state.leaseLooksBeforeLeaving) return LOCKED_LEASE_ACTION.wait;
  return LOCKED_LEASE_ACTION.handOver;
}

/**
 * Marks the pipeline's lease as leaving, then looks for the first event committed past its position,
 * settled or not: any run woken from now on waits for the lease instead of leaving its events to
 * this holder. Resolves to that event's id, or `undefined` when there is none, or when the run does
 * not look (its lease says so: runs woken meanwhile waited for it).
 *
 * @throws `LeaseLostError` when the lease is no longer held.
 */
export async function lookBeforeLeaving(
  context: FetcherContext,
  item: ActivePipeline,
): Promise<string | undefined> {
  const { source } = context;
  if (!item.looksBeforeLeaving || item.stopAt !== undefined || !source.firstCommittedAfter) return undefined;
  await retry(context, 'mark the lease as leaving', () => context.store.markLeaving(item.lease, true));
  return retry(context, 'look for events before leaving', async () =>
    source.firstCommittedAfter?.(item.pipeline.stream, item.position),
  );
}

/**
 * A holder that found events past its position stays: its lease is no longer marked as leaving, and
 * the run reads on through `pending` before it may leave again.
 */
export async function stayFor(context: FetcherContext, item: ActivePipeline, pending: string): Promise<void> {
  await retry(context, 'stay after all', () => context.store.markLeaving(item.lease, false));
  if (item.readThrough === undefined || item.readThrough < pending) item.readThrough = pending;
}
