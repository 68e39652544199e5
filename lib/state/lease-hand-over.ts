import type { PipelineState } from './types';

// Handing over between fetchers (`docs/wake-on-commit.md`, "Handing over"), as the state of a
// pipeline's lease decides it: the fetcher's woken runs and the waker read the lease the same way.

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
