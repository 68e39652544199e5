import { describe, expect, it } from 'vitest';
import { LOCKED_LEASE_ACTION, lockedLeaseAction } from '../../lib/state/lease-hand-over';

const NOW = 1_000_000;
const held = { leaseOwner: 'fetcher-a', leaseExpiresAt: NOW + 30_000, leaseLooksBeforeLeaving: true };

describe('what a woken run does about a lease it could not take', () => {
  it.each([
    ['the pipeline has no state', undefined, LOCKED_LEASE_ACTION.retry],
    ['the lease was given up', { leaseExpiresAt: 0 }, LOCKED_LEASE_ACTION.retry],
    ['the lease expired', { ...held, leaseExpiresAt: NOW }, LOCKED_LEASE_ACTION.retry],
    ['the holder is leaving', { ...held, leaseLeaving: true }, LOCKED_LEASE_ACTION.wait],
    [
      'the holder does not look before leaving',
      { ...held, leaseLooksBeforeLeaving: undefined },
      LOCKED_LEASE_ACTION.wait,
    ],
    ['the holder stays and looks before leaving', held, LOCKED_LEASE_ACTION.handOver],
    [
      'the pipeline is a bounded backfill, whose holder does not look',
      { ...held, leaseLooksBeforeLeaving: undefined, stopAt: { timeBucket: '20240501000000' } },
      LOCKED_LEASE_ACTION.handOver,
    ],
  ] as const)('%s', (_case, state, action) => {
    expect(lockedLeaseAction(state, NOW)).toBe(action);
  });
});
