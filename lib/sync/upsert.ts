import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { CommitOutcomeUnknownError, SluiceError } from '../errors';
import { UPSERT_ACTION, type UpsertAction } from './constants';
import type { DynamoDBContentHashStore } from './content-hash-store';

/** The most times `upsertWithHash` re-reads and tries again after losing a race, before giving up. */
const DEFAULT_MAX_CONFLICTS = 5;

/** What the record's change is, as `upsertWithHash` hands it to `write`. */
export interface RecordChange {
  /** `created` when no hash was stored, `updated` when another was. */
  readonly action: typeof UPSERT_ACTION.created | typeof UPSERT_ACTION.updated;
  readonly hash: string;
  readonly previousHash: string | undefined;
}

/** Options of {@link upsertWithHash}. */
export interface UpsertWithHashOptions {
  /** Where hashes are kept. */
  readonly store: DynamoDBContentHashStore;
  /** The sync resource the record belongs to (hashes of different resources never mix). */
  readonly resource: string;
  /** The record's key in the source, such as its id. */
  readonly key: string;
  /** The record's content hash (see `computeContentHash`). */
  readonly hash: string;
  /**
   * Writes the change together with `hashWrite`, atomically, as one DynamoDB transaction, for example
   * `eventLog.commitWith([event], [hashWrite])`. If another writer changed the stored hash meanwhile,
   * the transaction is cancelled and `upsertWithHash` reads the hash again and decides afresh, so the
   * change is written once, and only while it is a change.
   * @default none: only the hash is written (one conditional `UpdateItem`)
   */
  readonly write?: (hashWrite: TransactWriteItem, change: RecordChange) => Promise<void>;
  /**
   * The stored hash when the caller has just read it (for a whole page with `getHashes`): `null` for
   * none stored. It saves a read; a stale value costs one conflict, never a wrong answer.
   * @default read with a consistent GetItem
   */
  readonly knownHash?: string | null;
  /** @default 5 */
  readonly maxConflicts?: number;
}

/** What {@link upsertWithHash} did. */
export interface UpsertResult {
  readonly action: UpsertAction;
  readonly hash: string;
  /** The hash stored before, when there was one. */
  readonly previousHash?: string;
  /**
   * How many times another writer got in first and the write was decided again. A write that lost
   * to one storing the same hash ends `unchanged` with `conflicts` of 1 or more.
   */
  readonly conflicts: number;
}

/**
 * Writes a record only if its content changed, and says what it did: `created`, `updated` or
 * `unchanged`. Unlike a find-then-insert-or-update, the decision and the write cannot drift apart:
 *
 * - without `write`, one conditional `UpdateItem` (`attribute_not_exists(pk) OR hash <> :hash`)
 *   stores the hash, and its old value tells created from updated;
 * - with `write`, the change and the new hash go in one transaction whose hash `Put` holds only if
 *   the stored hash is still the one read. A lost race cancels the whole transaction; the hash is read
 *   again and the record is written, or found `unchanged`, accordingly. A commit whose outcome is
 *   unknown (`CommitOutcomeUnknownError`) is settled the same way: if the stored hash is now this
 *   one, it landed.
 *
 * @throws `SluiceError` after `maxConflicts` lost races; whatever `write` throws for any other reason
 * (a cancelled transaction whose hash condition still held is rethrown as it is).
 *
 * @example
 * ```ts
 * const hash = computeContentHash(customer);
 * const result = await upsertWithHash({
 *   store: hashes,
 *   resource: 'crm-customers',
 *   key: customer.id,
 *   hash,
 *   write: (hashWrite, change) =>
 *     eventLog.commitWith([{ stream: 'customers', type: `customer.${change.action}`, data: customer }], [hashWrite]),
 * });
 * // result.action: 'created' | 'updated' | 'unchanged'
 * ```
 */
export async function upsertWithHash(options: UpsertWithHashOptions): Promise<UpsertResult> {
  const { store, resource, key, hash, write } = options;
  if (write === undefined) {
    const { action, previousHash } = await store.putIfChanged(resource, key, hash);
    return { action, hash, ...(previousHash === undefined ? {} : { previousHash }), conflicts: 0 };
  }

  const maxConflicts = options.maxConflicts ?? DEFAULT_MAX_CONFLICTS;
  let previous =
    options.knownHash === undefined ? await store.getHash(resource, key) : (options.knownHash ?? undefined);
  for (let conflicts = 0; ; ) {
    const result = (action: UpsertAction, previousHash: string | undefined): UpsertResult => ({
      action,
      hash,
      ...(previousHash === undefined ? {} : { previousHash }),
      conflicts,
    });
    if (previous === hash) return result(UPSERT_ACTION.unchanged, previous);
    const change: RecordChange = {
      action: previous === undefined ? UPSERT_ACTION.created : UPSERT_ACTION.updated,
      hash,
      previousHash: previous,
    };
    try {
      await write(store.conditionalPut(resource, key, hash, previous), change);
      return result(change.action, previous);
    } catch (error) {
      const outcomeUnknown = hasErrorNamed(error, CommitOutcomeUnknownError.name);
      if (!outcomeUnknown && !isCancelledWrite(error)) throw error;
      const current = await store.getHash(resource, key);
      // The write was abandoned but landed (or another writer stored the same content): done.
      if (outcomeUnknown && current === hash) return result(change.action, previous);
      // Cancelled, and the hash is still the one read: the hash condition was not at fault.
      if (!outcomeUnknown && current === previous) throw error;
      if (!outcomeUnknown) conflicts += 1;
      if (conflicts > maxConflicts) {
        throw new SluiceError(
          `record '${key}' of sync resource '${resource}' changed under this writer ${conflicts} times in a row; gave up`,
          { cause: error },
        );
      }
      previous = current;
    }
  }
}

/** A conditional write or transaction that DynamoDB refused, possibly wrapped (as `CommitError` wraps it). */
function isCancelledWrite(error: unknown): boolean {
  return (
    hasErrorNamed(error, 'TransactionCanceledException') ||
    hasErrorNamed(error, 'ConditionalCheckFailedException')
  );
}

function hasErrorNamed(error: unknown, name: string): boolean {
  for (
    let current = error, depth = 0;
    depth < 5 && typeof current === 'object' && current !== null;
    depth++
  ) {
    if ((current as { name?: unknown }).name === name) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
