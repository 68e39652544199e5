import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { TableKey } from './keys';
import { conditionally, type Item, refusal, type StateTable, updateItem } from './state-table';

// The fenced lease that a pipeline's fetcher and a sync resource's run hold on their item of the
// state table: `leaseOwner`, `leaseExpiresAt` and a fencing `leaseToken` that every taking raises.
// A write made under the lease carries LEASE_HELD in its condition, so a holder that paused past
// its lease, or lost it, can never write again.

/** A lease as its holder knows it. */
export interface HeldLease {
  readonly owner: string;
  /** The fencing token: raised by every taking of the lease. */
  readonly token: number;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/**
 * The condition that proves a write is made by the holder of a current lease, with the values of
 * {@link leaseHeldValues}.
 */
export const LEASE_HELD = 'leaseToken = :token AND leaseOwner = :owner AND leaseExpiresAt > :now';

/**
 * The values {@link LEASE_HELD} names, for `lease` at `now`.
 *
 * @example
 * ```ts
 * const update = { ConditionExpression: `version = :version AND ${LEASE_HELD}`, ExpressionAttributeValues: { ...leaseHeldValues(lease, now), ':version': { N: '3' } } };
 * ```
 */
export function leaseHeldValues(lease: HeldLease, now: number): Record<string, AttributeValue> {
  return {
    ':token': { N: String(lease.token) },
    ':owner': { S: lease.owner },
    ':now': { N: String(now) },
  };
}

/** Whether `item` shows `lease` still held at `now`: the same test as {@link LEASE_HELD}. */
export function holdsLease(lease: HeldLease, item: Record<string, AttributeValue>, now: number): boolean {
  return (
    Number(item.leaseToken?.N ?? 0) === lease.token &&
    item.leaseOwner?.S === lease.owner &&
    Number(item.leaseExpiresAt?.N ?? 0) > now
  );
}

/**
 * Why `lease` is no longer held, from the item a refused write found (`undefined`: the item is gone);
 * words for the holder's kind.
 */
export function leaseLostReason(
  lease: HeldLease,
  item: Record<string, AttributeValue> | undefined,
  now: number,
  words: { readonly gone: string; readonly takenOver: string; readonly lease: string },
): { readonly currentToken?: number; readonly currentOwner?: string; readonly reason: string } {
  if (!item) return { reason: words.gone };
  const currentToken = Number(item.leaseToken?.N ?? 0);
  const currentOwner = item.leaseOwner?.S;
  const reason =
    currentToken !== lease.token
      ? words.takenOver
      : currentOwner !== lease.owner
        ? `the ${words.lease} was released`
        : `the ${words.lease} expired ${now - Number(item.leaseExpiresAt?.N ?? 0)} ms ago`;
  return { currentToken, ...(currentOwner ? { currentOwner } : {}), reason };
}

/** Where a lease lives: the state table's item, and the `send` that reaches it. */
export interface LeaseItem extends StateTable {
  readonly key: TableKey;
}

/**
 * Takes the lease if it is free or expired, or already `owner`'s, raising its fencing token.
 * Resolves to the item after the write, or, when the lease is someone else's, to `{ taken: false }`
 * with the item found (absent when there is no item and `itemMustExist` is set).
 *
 * @example
 * ```ts
 * const result = await acquireLease({ send, tableName, key }, 'fetcher-1', 60_000, Date.now(), { itemMustExist: true });
 * ```
 */
export async function acquireLease(
  at: LeaseItem,
  owner: string,
  durationMs: number,
  now: number,
  options: { readonly itemMustExist: boolean },
): Promise<{ readonly taken: true; readonly item: Item } | { readonly taken: false; readonly item?: Item }> {
  const outcome = await conditionally(
    updateItem(at, at.key, {
      UpdateExpression: 'SET leaseOwner = :owner, leaseExpiresAt = :expiresAt ADD leaseToken :one',
      ConditionExpression: options.itemMustExist
        ? 'attribute_exists(pk) AND (leaseExpiresAt <= :now OR leaseOwner = :owner)'
        : 'attribute_not_exists(pk) OR leaseExpiresAt <= :now OR leaseOwner = :owner',
      ExpressionAttributeValues: {
        ':owner': { S: owner },
        ':expiresAt': { N: String(now + durationMs) },
        ':now': { N: String(now) },
        ':one': { N: '1' },
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
  if (outcome.landed) return { taken: true, item: outcome.value ?? {} };
  return { taken: false, ...(outcome.item ? { item: outcome.item } : {}) };
}

/**
 * Extends a lease its holder still holds, to `now + durationMs`. Resolves to `undefined`, or, when
 * the lease is lost, to what the item holds now (`{ item: undefined }` when the item is gone).
 *
 * @example
 * ```ts
 * const lost = await renewLease({ send, tableName, key }, lease, 60_000, Date.now());
 * if (lost) throw new LeaseLostError(...);
 * ```
 */
export async function renewLease(
  at: LeaseItem,
  lease: HeldLease,
  durationMs: number,
  now: number,
): Promise<{ readonly item: Item | undefined } | undefined> {
  return refusal(
    updateItem(at, at.key, {
      UpdateExpression: 'SET leaseExpiresAt = :expiresAt',
      ConditionExpression: LEASE_HELD,
      ExpressionAttributeValues: {
        ...leaseHeldValues(lease, now),
        ':expiresAt': { N: String(now + durationMs) },
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
}

/**
 * Gives a lease up so that the next holder need not wait for it to expire. Does nothing if it was
 * already lost.
 *
 * @example
 * ```ts
 * await releaseLease({ send, tableName, key }, lease);
 * ```
 */
export async function releaseLease(at: LeaseItem, lease: HeldLease): Promise<void> {
  await refusal(
    updateItem(at, at.key, {
      UpdateExpression: 'SET leaseExpiresAt = :zero REMOVE leaseOwner',
      ConditionExpression: 'leaseToken = :token AND leaseOwner = :owner',
      ExpressionAttributeValues: {
        ':zero': { N: '0' },
        ':token': { N: String(lease.token) },
        ':owner': { S: lease.owner },
      },
    }),
  );
}
