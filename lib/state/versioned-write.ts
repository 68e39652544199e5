import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type HeldLease, LEASE_HELD, LEASE_LAYOUT, type LeaseItem, leaseHeldValues } from './fenced-lease';
import { type Item, refusal, updateItem } from './state-table';

// The one versioned write of the state table: "write if the stored version is what I read, and I
// still hold the lease", which raises the version by one and renews the lease in the same update.
// A pipeline's checkpoint and a sync resource's cursor are both written this way.

/** What a {@link writeVersionUnderLease} changes besides the version and the lease. */
export interface VersionedWrite {
  /** The attribute holding the version: raised by one with every write. */
  readonly versionAttribute: string;
  /** The version read; the write is refused unless it is still the stored one. */
  readonly expectedVersion: number;
  /**
   * Whether the item holds no version before its first write, so that version 0 means the attribute
   * is absent (a sync cursor never saved) rather than stored as 0 (a pipeline's initial state).
   */
  readonly absentAtZero: boolean;
  /** `SET` actions, such as `#position = :position`; `:token` and `:now` are the lease's token and `now`. */
  readonly sets: readonly string[];
  /** Attributes to remove. */
  readonly removes?: readonly string[];
  readonly names?: Readonly<Record<string, string>>;
  readonly values?: Readonly<Record<string, AttributeValue>>;
  /** The lease is renewed to `now + leaseDurationMs`. */
  readonly leaseDurationMs: number;
  readonly now: number;
}

/**
 * Writes over the version read, if `lease` is still held at `now`, raising the version and renewing
 * the lease in the same update. Resolves to `undefined` when it landed, or to the item found
 * (`ALL_OLD`) when the version moved or the lease was lost: the caller tells which.
 *
 * @example
 * ```ts
 * const refused = await writeVersionUnderLease({ send, tableName, key }, lease, {
 *   versionAttribute: 'cursorVersion', expectedVersion: 3, absentAtZero: true,
 *   sets: ['cursorToken = :token', 'cursorSavedAt = :now'], leaseDurationMs: 60_000, now: Date.now(),
 * });
 * ```
 */
export async function writeVersionUnderLease(
  at: LeaseItem,
  lease: HeldLease,
  write: VersionedWrite,
): Promise<{ readonly item: Item | undefined } | undefined> {
  const version = write.versionAttribute;
  const atVersion =
    write.absentAtZero && write.expectedVersion === 0
      ? `attribute_not_exists(${version})`
      : `${version} = :version`;
  const removes = write.removes?.length ? ` REMOVE ${write.removes.join(', ')}` : '';
  const names =
    write.names && Object.keys(write.names).length > 0
      ? { ExpressionAttributeNames: { ...write.names } }
      : {};
  return refusal(
    updateItem(at, at.key, {
      UpdateExpression: `SET ${[...write.sets, `${LEASE_LAYOUT.expiresAt} = :expiresAt`].join(', ')} ADD ${version} :one${removes}`,
      ConditionExpression: `${atVersion} AND ${LEASE_HELD}`,
      ...names,
      ExpressionAttributeValues: {
        ...write.values,
        ...leaseHeldValues(lease, write.now),
        ':expiresAt': { N: String(write.now + write.leaseDurationMs) },
        ':one': { N: '1' },
        ...(write.absentAtZero && write.expectedVersion === 0
          ? {}
          : { ':version': { N: String(write.expectedVersion) } }),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
}
