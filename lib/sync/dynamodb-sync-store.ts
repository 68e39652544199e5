import type { DynamoDBClient, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { ConflictError, LeaseLostError } from '../errors';
import {
  acquireLease,
  holdsLease,
  LEASE_HELD,
  type LeaseItem,
  leaseHeldValues,
  leaseLostReason,
  releaseLease,
  renewLease,
} from '../state/fenced-lease';
import { attributeKey, syncRunsPartition, syncStateKey } from '../state/keys';
import { runRecordItem, runRecords } from '../state/pipeline-runs';
import { getItem, type Item, newestFirst, putItem, updateItem } from '../state/state-table';
import { writeVersionUnderLease } from '../state/versioned-write';
import { assertWholeMilliseconds } from '../validation/whole-milliseconds';
import { SYNC_LEASE_RANGE, SYNC_RUN_RETENTION_SECONDS } from './constants';
import { assertResourceName } from './keys';
import { StateTableStore } from './state-table-store';
import type { SavedCursor, SyncLock, SyncRunRecord, SyncRunTracker, SyncStateStore } from './types';

/** Options of a {@link DynamoDBSyncStore}. */
export interface DynamoDBSyncStoreOptions {
  /** A table with string hash key `pk` and string range key `sk` (the state table of a Sluice app). */
  readonly tableName: string;
  /** @default a new DynamoDBClient from the environment */
  readonly client?: DynamoDBClient;
  /** The clock the lock's expiry is measured with, in milliseconds since the epoch. @default Date.now */
  readonly clock?: () => number;
}

/**
 * Sync locks, cursors and run records in one DynamoDB table. One item per resource holds its lock
 * and its cursor (`pk = sync#<resource>`, `sk = state`); run records sit under `sync#<resource>#runs`,
 * newest last, kept 30 days by TTL on `expiresAt`. Every write is conditional:
 *
 * - a lock is taken only when free or expired, and each taking raises the resource's fencing token;
 * - a cursor is saved only by the holder of the current token and only over the version it read, so
 *   a run that paused past its lock, or that lost it, can never move the cursor back;
 * - {@link fenceCondition} gives the same check as a transaction action, for writes elsewhere.
 *
 * @example
 * ```ts
 * const store = new DynamoDBSyncStore({ tableName: 'sluice-state' });
 * const lock = await store.acquireLock('stripe-charges', `run-${context.awsRequestId}`, 120_000);
 * if (lock) {
 *   const saved = await store.loadCursor('stripe-charges');
 *   await store.saveCursor(lock, { cursor: 'ch_123', expectedVersion: saved?.version ?? 0, leaseDurationMs: 120_000 });
 * }
 * ```
 */
export class DynamoDBSyncStore extends StateTableStore implements SyncStateStore, SyncRunTracker {
  constructor(options: DynamoDBSyncStoreOptions) {
    super(options);
  }

  /**
   * Takes the resource's lock if it is free or expired (or already this owner's), raising its fencing
   * token; `undefined` when another owner holds it.
   *
   * @example
   * ```ts
   * const lock = await store.acquireLock('stripe-charges', 'run-1', 60_000);
   * ```
   */
  async acquireLock(resource: string, owner: string, durationMs: number): Promise<SyncLock | undefined> {
    assertResourceName(resource);
    checkLeaseDuration(durationMs);
    const result = await acquireLease(this.lockItem(resource), owner, durationMs, this.clock(), {
      itemMustExist: false,
    });
    if (!result.taken) return undefined;
    return {
      resource,
      owner,
      token: Number(result.item.leaseToken?.N ?? 0),
      expiresAt: Number(result.item.leaseExpiresAt?.N ?? 0),
    };
  }

  /**
   * Extends a lock this owner still holds.
   *
   * @throws `LeaseLostError` (lease `sync`) when the lock expired, was released or was taken over.
   * @example
   * ```ts
   * lock = await store.renewLock(lock, 60_000);
   * ```
   */
  async renewLock(lock: SyncLock, durationMs: number): Promise<SyncLock> {
    checkLeaseDuration(durationMs);
    const now = this.clock();
    const lost = await renewLease(this.lockItem(lock.resource), lock, durationMs, now);
    if (lost) throw lockLost(lock, lost.item, now);
    return { ...lock, expiresAt: now + durationMs };
  }

  /**
   * Gives a lock up so that the next run need not wait for it to expire. Does nothing if it was lost.
   *
   * @example
   * ```ts
   * await store.releaseLock(lock);
   * ```
   */
  async releaseLock(lock: SyncLock): Promise<void> {
    await releaseLease(this.lockItem(lock.resource), lock);
  }

  /** Where a resource's lock lives. */
  private lockItem(resource: string): LeaseItem {
    return { ...this.table, key: syncStateKey(resource) };
  }

  /**
   * The resource's saved cursor (read consistently), or `undefined` if none was ever saved.
   *
   * @example
   * ```ts
   * const saved = await store.loadCursor('stripe-charges');
   * ```
   */
  async loadCursor(resource: string): Promise<SavedCursor | undefined> {
    assertResourceName(resource);
    const item = await getItem(this.table, syncStateKey(resource));
    if (!item || item.cursorVersion?.N === undefined) return undefined;
    return {
      cursor: item.cursor?.S,
      version: Number(item.cursorVersion.N),
      token: Number(item.cursorToken?.N ?? 0),
      savedAt: Number(item.cursorSavedAt?.N ?? 0),
    };
  }

  /**
   * Saves the cursor (`undefined`: back to the beginning) if `lock` is current and the cursor is at
   * `expectedVersion` (0 when none was saved), renewing the lock in the same write.
   *
   * @throws `LeaseLostError` (lease `sync`: the lock expired or was taken over), `ConflictError` (kind `cursor-moved`: the cursor
   * was reset while this run held the lock).
   * @example
   * ```ts
   * version = await store.saveCursor(lock, { cursor: next, expectedVersion: version, leaseDurationMs: 60_000 });
   * ```
   */
  async saveCursor(
    lock: SyncLock,
    save: { cursor: string | undefined; expectedVersion: number; leaseDurationMs: number },
  ): Promise<number> {
    checkLeaseDuration(save.leaseDurationMs);
    const now = this.clock();
    const found = await writeVersionUnderLease(this.lockItem(lock.resource), lock, {
      versionAttribute: 'cursorVersion',
      expectedVersion: save.expectedVersion,
      absentAtZero: true,
      sets: [
        ...(save.cursor === undefined ? [] : ['#cursor = :cursor']),
        'cursorToken = :token',
        'cursorSavedAt = :now',
      ],
      removes: save.cursor === undefined ? ['#cursor'] : [],
      names: { '#cursor': 'cursor' },
      values: save.cursor === undefined ? {} : { ':cursor': { S: save.cursor } },
      leaseDurationMs: save.leaseDurationMs,
      now,
    });
    if (!found) return save.expectedVersion + 1;
    const item = found.item;
    if (item && holdsLease(lock, item, now)) {
      throw new ConflictError({
        kind: 'cursor-moved',
        resource: lock.resource,
        expectedVersion: save.expectedVersion,
        actualVersion: Number(item.cursorVersion?.N ?? 0),
      });
    }
    throw lockLost(lock, item, now);
  }

  /**
   * Moves a resource's cursor by hand (back to the beginning when `cursor` is left out), whoever holds
   * the lock: a run in progress finds its next save refused with `ConflictError` (kind `cursor-moved`) and stops.
   *
   * @example
   * ```ts
   * await store.resetCursor('stripe-charges'); // the next run starts from the first page
   * ```
   */
  async resetCursor(resource: string, cursor?: string): Promise<void> {
    assertResourceName(resource);
    await updateItem(this.table, syncStateKey(resource), {
      UpdateExpression:
        cursor === undefined
          ? 'SET cursorToken = :zero, cursorSavedAt = :now REMOVE #cursor ADD cursorVersion :one'
          : 'SET #cursor = :cursor, cursorToken = :zero, cursorSavedAt = :now ADD cursorVersion :one',
      ExpressionAttributeNames: { '#cursor': 'cursor' },
      ExpressionAttributeValues: {
        ':zero': { N: '0' },
        ':now': { N: String(this.clock()) },
        ':one': { N: '1' },
        ...(cursor === undefined ? {} : { ':cursor': { S: cursor } }),
      },
    });
  }

  /**
   * A `ConditionCheck` that holds only while `lock` is current (same token and owner, not expired),
   * to put in a transaction beside other writes so that a run that lost its lock writes nothing.
   *
   * @example
   * ```ts
   * await eventLog.commitWith([event], [store.fenceCondition(lock)]);
   * ```
   */
  fenceCondition(lock: SyncLock): TransactWriteItem {
    return {
      ConditionCheck: {
        TableName: this.tableName,
        Key: attributeKey(syncStateKey(lock.resource)),
        ConditionExpression: LEASE_HELD,
        ExpressionAttributeValues: leaseHeldValues(lock, this.clock()),
      },
    };
  }

  /** Records the start of a run. */
  async startRun(run: SyncRunRecord): Promise<void> {
    await putItem(this.table, runItem(run));
  }

  /** Records how a run ended (over its start record). */
  async endRun(run: SyncRunRecord): Promise<void> {
    await putItem(this.table, runItem(run));
  }

  /**
   * A resource's runs, newest first.
   *
   * @example
   * ```ts
   * const [latest] = await store.listRuns('stripe-charges', 1);
   * ```
   */
  async listRuns(resource: string, limit = 20): Promise<SyncRunRecord[]> {
    assertResourceName(resource);
    return runRecords<SyncRunRecord>(await newestFirst(this.table, syncRunsPartition(resource), limit));
  }
}

function lockLost(lock: SyncLock, item: Item | undefined, now: number): LeaseLostError {
  const lost = leaseLostReason(lock, item, now, {
    gone: 'its state is gone',
    takenOver: 'another run took the resource over',
    lease: 'lock',
  });
  return new LeaseLostError({ lease: 'sync', resource: lock.resource, token: lock.token, ...lost });
}

function runItem(run: SyncRunRecord): Item {
  return runRecordItem(syncRunsPartition(run.resource), run, SYNC_RUN_RETENTION_SECONDS);
}

function checkLeaseDuration(durationMs: number): void {
  assertWholeMilliseconds('lease duration', durationMs, SYNC_LEASE_RANGE);
}
