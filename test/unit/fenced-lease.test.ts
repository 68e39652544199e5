import { describe, expect, it } from 'vitest';
import {
  heldCondition,
  heldValues,
  holdsLease,
  LEASE_HELD,
  LEASE_LAYOUT,
  leaseHeldValues,
  leaseLostReason,
  leaseNames,
  takeCondition,
} from '../../lib/state/fenced-lease';

const NOW = 1_714_564_800_000;
const lease = { owner: 'fetcher-1', token: 3, expiresAt: NOW + 60_000 };
const WORDS = { gone: 'the state is gone', takenOver: 'another took it', lease: 'lease' };
const leaseItem = (token: number, owner: string | undefined, expiresAt: number) => ({
  leaseToken: { N: String(token) },
  ...(owner === undefined ? {} : { leaseOwner: { S: owner } }),
  leaseExpiresAt: { N: String(expiresAt) },
});

describe('the conditions of a fetcher’s or sync run’s lease', () => {
  it('takes the lease when expired or already the owner’s, on an item that must exist or may not', () => {
    expect(takeCondition(LEASE_LAYOUT, { itemMustExist: true })).toBe(
      'attribute_exists(pk) AND (leaseExpiresAt <= :now OR leaseOwner = :owner)',
    );
    expect(takeCondition(LEASE_LAYOUT, { itemMustExist: false })).toBe(
      'attribute_not_exists(pk) OR leaseExpiresAt <= :now OR leaseOwner = :owner',
    );
  });

  it('holds it by token and owner until it expires, and gives it up by token and owner alone', () => {
    expect(LEASE_HELD).toBe('leaseToken = :token AND leaseOwner = :owner AND leaseExpiresAt > :now');
    expect(heldCondition(LEASE_LAYOUT, { evenIfExpired: true })).toBe(
      'leaseToken = :token AND leaseOwner = :owner',
    );
    expect(leaseHeldValues(lease, NOW)).toEqual({
      ':token': { N: '3' },
      ':owner': { S: 'fetcher-1' },
      ':now': { N: String(NOW) },
    });
    expect(heldValues(LEASE_LAYOUT, lease, undefined)).toEqual({
      ':token': { N: '3' },
      ':owner': { S: 'fetcher-1' },
    });
    expect(leaseNames(LEASE_LAYOUT)).toEqual({});
  });
});

describe('a lease as its item shows it', () => {
  it('is held with the same token and owner before it expires', () => {
    expect(holdsLease(lease, leaseItem(3, 'fetcher-1', NOW + 1), NOW)).toBe(true);
    expect(holdsLease(lease, leaseItem(3, 'fetcher-1', NOW), NOW)).toBe(false);
    expect(holdsLease(lease, leaseItem(4, 'fetcher-1', NOW + 1), NOW)).toBe(false);
    expect(holdsLease(lease, leaseItem(3, 'fetcher-2', NOW + 1), NOW)).toBe(false);
  });

  it('was lost to a vanished item, a taking, a release or its expiry', () => {
    expect(leaseLostReason(lease, undefined, NOW, WORDS)).toEqual({ reason: 'the state is gone' });
    expect(leaseLostReason(lease, leaseItem(4, 'fetcher-2', NOW + 1), NOW, WORDS)).toEqual({
      currentToken: 4,
      currentOwner: 'fetcher-2',
      reason: 'another took it',
    });
    expect(leaseLostReason(lease, leaseItem(3, undefined, 0), NOW, WORDS)).toEqual({
      currentToken: 3,
      reason: 'the lease was released',
    });
    expect(leaseLostReason(lease, leaseItem(3, 'fetcher-1', NOW - 250), NOW, WORDS)).toEqual({
      currentToken: 3,
      currentOwner: 'fetcher-1',
      reason: 'the lease expired 250 ms ago',
    });
  });
});
