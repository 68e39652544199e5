import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { TableKey } from './keys';
import { conditionally, type Item, type Refusal, refusal, type StateTable, updateItem } from './state-table';

// A fenced lease on an item of the state table: a fencing token that every taking changes and an
// expiry, taken only when free or expired, written under only by its holder. A write made under the
// lease carries the condition that proves it is held, so a holder that lost it can never write again.
// Two kinds live here: the lease a pipeline's fetcher and a sync resource's run hold (LEASE_LAYOUT),
// and, by its own layout, the claim on a failed event (`lib/failed/claims.ts`).

/** How a kind of fenced lease sits on its item. */
export interface LeaseLayout {
  /**
   * The attribute of the fencing token, which every taking changes: `counter`, a number raised by
   * one; `random`, a string the taker draws, which alone names the holder.
   */
  readonly token: { readonly attribute: string; readonly kind: 'counter' | 'random' };
  /** The attribute of when the lease expires, in epoch milliseconds. */
  readonly expiresAt: string;
  /** The attribute naming the holder, who may take the lease again before it expires; none when the token names the holder. */
  readonly owner?: string;
  /**
   * What the item must also show to be taken or held, and the `SET` clause that makes it so on
   * taking: a claim is taken and held only while its status is `claimed`, so a handled one is never
   * taken again.
   */
  readonly standing?: {
    readonly condition: string;
    readonly set: string;
    readonly names: Readonly<Record<string, string>>;
    readonly values: Item;
  };
  /**
   * Whether a write under the lease needs it unexpired too. Without, a holder past its expiry may
   * still write until another takes the lease, which changes its token.
   */
  readonly heldUntilExpiry: boolean;
}

/** What proves a write is the holder's: the token it took the lease with, and its owner where the layout has one. */
export interface LeaseHolder {
  readonly token: number | string;
  readonly owner?: string;
}

/** The layout of the lease a pipeline's fetcher and a sync resource's run hold on their state item. */
export const LEASE_LAYOUT: LeaseLayout = {
  token: { attribute: 'leaseToken', kind: 'counter' },
  expiresAt: 'leaseExpiresAt',
  owner: 'leaseOwner',
  heldUntilExpiry: true,
};

/**
 * The condition under which a lease of `layout` may be taken at `:now`: its item is absent (unless
 * it must exist), or its lease expired, or (with an owner) it is already `:owner`'s.
 *
 * @example
 * ```ts
 * takeCondition(LEASE_LAYOUT, { itemMustExist: true });
 * // 'attribute_exists(pk) AND (leaseExpiresAt <= :now OR leaseOwner = :owner)'
 * ```
 */
export function takeCondition(layout: LeaseLayout, options: { readonly itemMustExist: boolean }): string {
  const expired = `${layout.expiresAt} <= :now`;
  const takeable = [
    layout.standing ? `(${layout.standing.condition} AND ${expired})` : expired,
    ...(layout.owner ? [`${layout.owner} = :owner`] : []),
  ].join(' OR ');
  return options.itemMustExist
    ? `attribute_exists(pk) AND (${takeable})`
    : `attribute_not_exists(pk) OR ${takeable}`;
}

/**
 * The condition that proves a write is made by the holder of a lease of `layout`, with the values of
 * {@link heldValues}. `evenIfExpired` leaves the expiry out, for giving the lease up.
 *
 * @example
 * ```ts
 * heldCondition(LEASE_LAYOUT); // 'leaseToken = :token AND leaseOwner = :owner AND leaseExpiresAt > :now'
 * ```
 */
export function heldCondition(
  layout: LeaseLayout,
  options: { readonly evenIfExpired?: boolean } = {},
): string {
  return [
    `${layout.token.attribute} = :token`,
    ...(layout.owner ? [`${layout.owner} = :owner`] : []),
    ...(layout.standing ? [layout.standing.condition] : []),
    ...(layout.heldUntilExpiry && !options.evenIfExpired ? [`${layout.expiresAt} > :now`] : []),
  ].join(' AND ');
}

/**
 * The values {@link heldCondition} names, for `holder` at `now` (`undefined` with `evenIfExpired`).
 * The attribute names of the layout's standing, if any, go with {@link leaseNames}.
 *
 * @example
 * ```ts
 * heldValues(LEASE_LAYOUT, { token: 3, owner: 'fetcher-1' }, Date.now());
 * ```
 */
export function heldValues(layout: LeaseLayout, holder: LeaseHolder, now: number | undefined): Item {
  return {
    ':token': layout.token.kind === 'counter' ? { N: String(holder.token) } : { S: String(holder.token) },
    ...(layout.owner ? { ':owner': { S: holder.owner ?? '' } } : {}),
    ...(layout.standing?.values ?? {}),
    ...(layout.heldUntilExpiry && now !== undefined ? { ':now': { N: String(now) } } : {}),
  };
}

/** The `ExpressionAttributeNames` of the layout's conditions: none, or those of its standing. */
export function leaseNames(layout: LeaseLayout): { ExpressionAttributeNames?: Record<string, string> } {
  return layout.standing ? { ExpressionAttributeNames: { ...layout.standing.names } } : {};
}

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
export const LEASE_HELD = heldCondition(LEASE_LAYOUT);

/**
 * The values {@link LEASE_HELD} names, for `lease` at `now`.
 *
 * @example
 * ```ts
 * const update = { ConditionExpression: `version = :version AND ${LEASE_HELD}`, ExpressionAttributeValues: { ...leaseHeldValues(lease, now), ':version': { N: '3' } } };
 * ```
 */
export function leaseHeldValues(lease: HeldLease, now: number): Record<string, AttributeValue> {
  return heldValues(LEASE_LAYOUT, lease, now);
}

/** Whether `item` shows `lease` still held at `now`: the same test as {@link LEASE_HELD}. */
export function holdsLease(lease: HeldLease, item: Record<string, AttributeValue>, now: number): boolean {
  const { token, owner, expiresAt } = leaseAttributesOf(item);
  return token === lease.token && owner === lease.owner && expiresAt > now;
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
  const { token: currentToken, owner: currentOwner, expiresAt } = leaseAttributesOf(item);
  const reason =
    currentToken !== lease.token
      ? words.takenOver
      : currentOwner !== lease.owner
        ? `the ${words.lease} was released`
        : `the ${words.lease} expired ${now - expiresAt} ms ago`;
  return { currentToken, ...(currentOwner ? { currentOwner } : {}), reason };
}

/** The lease an item of {@link LEASE_LAYOUT} shows: token and expiry 0 when absent. */
function leaseAttributesOf(item: Item): { token: number; owner: string | undefined; expiresAt: number } {
  return {
    token: Number(item[LEASE_LAYOUT.token.attribute]?.N ?? 0),
    owner: LEASE_LAYOUT.owner === undefined ? undefined : item[LEASE_LAYOUT.owner]?.S,
    expiresAt: Number(item[LEASE_LAYOUT.expiresAt]?.N ?? 0),
  };
}

/** Where a lease lives: the state table's item, and the `send` that reaches it. */
export interface LeaseItem extends StateTable {
  readonly key: TableKey;
}

/** What a taking writes beside the lease itself: more `SET`, `ADD` and `REMOVE` clauses, and the values they name. */
export interface AlsoWritten {
  readonly set?: readonly string[];
  readonly add?: readonly string[];
  readonly remove?: readonly string[];
  readonly values?: Item;
}

/** A taking of a lease of some layout: who takes it, until when, at what time. */
export interface Taking extends Partial<LeaseHolder> {
  /** Epoch milliseconds. */
  readonly now: number;
  /** Epoch milliseconds. */
  readonly until: number;
  /** Whether the lease's item must exist already (the lease is then refused, with no item, when it does not). */
  readonly itemMustExist: boolean;
  readonly also?: AlsoWritten;
}

/**
 * Takes a lease of `layout` if it is free or expired (see {@link takeCondition}), changing its
 * fencing token: raised by one for a `counter`, set to `taking.token` for a `random` one. Resolves
 * to the item after the write, or, when the lease is not free, to `{ taken: false }` with the item
 * found (absent when there is none).
 *
 * @example
 * ```ts
 * const result = await takeLease({ send, tableName, key }, CLAIM_LAYOUT, { token: randomUUID(), now, until: now + 60_000, itemMustExist: false });
 * ```
 */
export async function takeLease(
  at: LeaseItem,
  layout: LeaseLayout,
  taking: Taking,
): Promise<{ readonly taken: true; readonly item: Item } | { readonly taken: false; readonly item?: Item }> {
  const counter = layout.token.kind === 'counter';
  const sets = [
    ...(layout.standing ? [layout.standing.set] : []),
    ...(counter ? [] : [`${layout.token.attribute} = :token`]),
    ...(layout.owner ? [`${layout.owner} = :owner`] : []),
    `${layout.expiresAt} = :expiresAt`,
    ...(taking.also?.set ?? []),
  ];
  const adds = [...(counter ? [`${layout.token.attribute} :one`] : []), ...(taking.also?.add ?? [])];
  const removes = taking.also?.remove ?? [];
  const outcome = await conditionally(
    updateItem(at, at.key, {
      UpdateExpression: `SET ${sets.join(', ')}${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: takeCondition(layout, taking),
      ...leaseNames(layout),
      ExpressionAttributeValues: {
        ...(layout.standing?.values ?? {}),
        ...(counter ? { ':one': { N: '1' } } : { ':token': { S: String(taking.token) } }),
        ...(layout.owner ? { ':owner': { S: taking.owner ?? '' } } : {}),
        ':expiresAt': { N: String(taking.until) },
        ':now': { N: String(taking.now) },
        ...(taking.also?.values ?? {}),
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
  if (outcome.landed) return { taken: true, item: outcome.value ?? {} };
  return { taken: false, ...(outcome.item ? { item: outcome.item } : {}) };
}

/**
 * Gives a lease of `layout` up, so that the next taker need not wait for it to expire: its expiry
 * goes to 0 and the holder's name (its owner, or else its token) goes. Resolves to `undefined`, or to
 * the {@link Refusal} when `holder` no longer held it (nothing changes then).
 *
 * @example
 * ```ts
 * const refused = await giveUpLease({ send, tableName, key }, CLAIM_LAYOUT, { token: claim.token });
 * ```
 */
export function giveUpLease(
  at: LeaseItem,
  layout: LeaseLayout,
  holder: LeaseHolder,
  alsoRemove: readonly string[] = [],
): Promise<Refusal | undefined> {
  const removed = [layout.owner ?? layout.token.attribute, ...alsoRemove];
  return refusal(
    updateItem(at, at.key, {
      UpdateExpression: `SET ${layout.expiresAt} = :zero REMOVE ${removed.join(', ')}`,
      ConditionExpression: heldCondition(layout, { evenIfExpired: true }),
      ...leaseNames(layout),
      ExpressionAttributeValues: { ':zero': { N: '0' }, ...heldValues(layout, holder, undefined) },
    }),
  );
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
export function acquireLease(
  at: LeaseItem,
  owner: string,
  durationMs: number,
  now: number,
  options: { readonly itemMustExist: boolean; readonly also?: AlsoWritten },
): Promise<{ readonly taken: true; readonly item: Item } | { readonly taken: false; readonly item?: Item }> {
  return takeLease(at, LEASE_LAYOUT, {
    owner,
    now,
    until: now + durationMs,
    itemMustExist: options.itemMustExist,
    ...(options.also ? { also: options.also } : {}),
  });
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
      UpdateExpression: `SET ${LEASE_LAYOUT.expiresAt} = :expiresAt`,
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
export async function releaseLease(
  at: LeaseItem,
  lease: HeldLease,
  alsoRemove: readonly string[] = [],
): Promise<void> {
  await giveUpLease(at, LEASE_LAYOUT, lease, alsoRemove);
}
