import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { LEASE_LAYOUT } from './fenced-lease';
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
 * it looks for unread events before leaving and that is not leaving yet; it waits for any other. A
 * bounded pipeline (a backfill) is left to its holder: a commit adds nothing to it.
 *
 * @example
 * ```ts
 * lockedLeaseAction(await store.getState('billing'), Date.now()); // 'hand-over'
 * ```
 */
export function lockedLeaseAction(
  state:
    | Pick<
        PipelineState,
        'leaseOwner' | 'leaseExpiresAt' | 'leaseLeaving' | 'leaseLooksBeforeLeaving' | 'stopAt'
      >
    | undefined,
  now: number,
): LockedLeaseAction {
  if (!state || state.leaseOwner === undefined || state.leaseExpiresAt <= now)
    return LOCKED_LEASE_ACTION.retry;
  // A bounded pipeline (a backfill) ends at its stopAt: new commits add nothing to it.
  if (state.stopAt !== undefined) return LOCKED_LEASE_ACTION.handOver;
  if (state.leaseLeaving || !state.leaseLooksBeforeLeaving) return LOCKED_LEASE_ACTION.wait;
  return LOCKED_LEASE_ACTION.handOver;
}

/** The attribute that says the holder looks for unread events before it gives the lease up. */
export const LOOKS_ATTRIBUTE = 'leaseLooksBeforeLeaving';

/**
 * The attribute a holder sets on its lease before it checks, one last time, for events it has not
 * read, and keeps until it gives the lease up.
 */
export const LEAVING_ATTRIBUTE = 'leaseLeaving';

/** The attributes of a pipeline's state item that {@link lockedLeaseAction} reads. */
export const LEASE_VIEW_ATTRIBUTES = [
  LEASE_LAYOUT.owner as string,
  LEASE_LAYOUT.expiresAt,
  LEAVING_ATTRIBUTE,
  LOOKS_ATTRIBUTE,
] as const;

/** The part of a pipeline's state that says who holds its lease, and how the holder leaves. */
export type LeaseView = Pick<
  PipelineState,
  'leaseOwner' | 'leaseExpiresAt' | 'leaseLeaving' | 'leaseLooksBeforeLeaving'
>;

/**
 * The lease's part of a pipeline's state item, as {@link lockedLeaseAction} reads it and as the
 * pipeline's whole state holds it.
 *
 * @example
 * ```ts
 * lockedLeaseAction(output.Item && leaseViewOf(output.Item), Date.now());
 * ```
 */
export function leaseViewOf(item: Record<string, AttributeValue>): LeaseView {
  const owner = item[LEASE_LAYOUT.owner as string]?.S;
  return {
    ...(owner ? { leaseOwner: owner } : {}),
    leaseExpiresAt: Number(item[LEASE_LAYOUT.expiresAt]?.N ?? 0),
    ...(item[LEAVING_ATTRIBUTE]?.BOOL ? { leaseLeaving: true } : {}),
    ...(item[LOOKS_ATTRIBUTE]?.BOOL ? { leaseLooksBeforeLeaving: true } : {}),
  };
}
