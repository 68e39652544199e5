import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { RUN_STATUS, RunStatus } from '../state/types';
import type { SyncStatus } from './constants';

/** A lock a sync run holds on a resource, with the fencing token it got when it took it. */
export interface SyncLock {
  readonly resource: string;
  readonly owner: string;
  /** Only ever increases: every taking of the lock gets the next one. */
  readonly token: number;
  readonly expiresAt: number;
}

/** A resource's saved cursor. */
export interface SavedCursor {
  /** Where the next run starts; `undefined` means from the beginning. */
  readonly cursor: string | undefined;
  /** Goes up by one with every save. */
  readonly version: number;
  /** The fencing token of the run that saved it (0 for none). */
  readonly token: number;
  readonly savedAt: number;
}

/**
 * Where locks and cursors live. They live together so that a cursor save can check, in the same
 * conditional write, that the saver still holds the lock: a run that lost its lock can never move the
 * cursor. `DynamoDBSyncStore` is the default.
 */
export interface SyncStateStore {
  /** Takes the lock if it is free or expired (or already this owner's), raising its token; `undefined` when held. */
  acquireLock(resource: string, owner: string, durationMs: number): Promise<SyncLock | undefined>;
  /** Extends a lock this owner still holds; throws `LeaseLostError` with lease `sync` if it does not. */
  renewLock(lock: SyncLock, durationMs: number): Promise<SyncLock>;
  /** Gives the lock up; does nothing if it was already lost. */
  releaseLock(lock: SyncLock): Promise<void>;
  /** The resource's saved cursor, or `undefined` when none was ever saved. */
  loadCursor(resource: string): Promise<SavedCursor | undefined>;
  /**
   * Saves a cursor if `lock` is still current and the cursor is still at `expectedVersion`, renewing
   * the lock in the same write; resolves to the new version.
   * @throws `LeaseLostError` with lease `sync`, `ConflictError` with kind `cursor-moved`
   */
  saveCursor(
    lock: SyncLock,
    save: { cursor: string | undefined; expectedVersion: number; leaseDurationMs: number },
  ): Promise<number>;
  /**
   * A DynamoDB transaction action that holds only while `lock` is current, to put beside other writes
   * (an event commit) so that they too are fenced. Stores outside DynamoDB leave it out.
   */
  fenceCondition?(lock: SyncLock): TransactWriteItem;
}

/** What a sync run did, by the numbers. Handlers add to it through the run context. */
export interface SyncCounts {
  /** Pages fetched. */
  pages: number;
  /** Records fetched. */
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Records that failed (see `processBatchWithTimeout`). */
  failed: number;
  /** Retries of failed calls. */
  retries: number;
}

/** A run record, as @systemoperator/sync's tracker keeps it. */
export interface SyncRunRecord {
  readonly resource: string;
  readonly runId: string;
  readonly runType: string;
  readonly trigger: string;
  readonly owner: string;
  readonly lockToken: number;
  readonly status: RunStatus;
  readonly startedAt: number;
  readonly endedAt?: number;
  /** The cursor the run started from. */
  readonly startCursor?: string;
  /** The cursor saved last; absent when the run ended back at the beginning. */
  readonly endCursor?: string;
  /** `partial` when the run stopped at its time budget, with work left for the next run. */
  readonly outcome?: SyncStatus;
  readonly counts?: SyncCounts;
  readonly error?: { readonly name: string; readonly message: string };
}

/** Records runs: the tracker of @systemoperator/sync. `DynamoDBSyncStore` is the default. */
export interface SyncRunTracker {
  startRun(run: SyncRunRecord & { readonly status: typeof RUN_STATUS.started }): Promise<void>;
  /** Records a run that ended, finished or failed (`run.status` says which). */
  endRun(run: SyncRunRecord): Promise<void>;
}

/** Hears how runs end. An error it throws is reported in the result, and does not fail the run. */
export interface SyncNotifier {
  onRunFinished?(run: SyncRunRecord): void | Promise<void>;
  onRunFailed?(run: SyncRunRecord): void | Promise<void>;
  /** Another run held the lock, so this one did nothing. */
  onRunSkipped?(resource: string): void | Promise<void>;
}
