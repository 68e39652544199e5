import { randomUUID } from 'node:crypto';
import type { DynamoDBClient, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { describe, ValidationError } from '../errors';
import { RUN_STATUS } from '../state/types';
import { wholeMillisecondsProblem } from '../validation/whole-milliseconds';
import { DEFAULT_SYNC_LEASE_MS, SYNC_LEASE_RANGE, SYNC_STATUS, type SyncStatus } from './constants';
import { DynamoDBSyncStore } from './dynamodb-sync-store';
import { assertResourceName } from './keys';
import type { PaginationContext } from './paginate';
import type {
  SyncCounts,
  SyncLock,
  SyncNotifier,
  SyncRunRecord,
  SyncRunTracker,
  SyncStateStore,
} from './types';

/** Options of {@link withSyncRun}. Give `tableName` for the DynamoDB stores, or `store` for your own. */
export interface WithSyncRunOptions {
  /** What is synced: names the lock, the cursor and the run records (`'stripe-charges'`). */
  readonly resource: string;
  /** The state table for the default `DynamoDBSyncStore` (locks, cursors and run records). */
  readonly tableName?: string;
  /** @default a new DynamoDBClient from the environment (with `tableName`) */
  readonly client?: DynamoDBClient;
  /** Locks and cursors. @default a `DynamoDBSyncStore` on `tableName` */
  readonly store?: SyncStateStore;
  /**
   * Run records; `null` keeps none.
   * @default `store` when it records runs too (as `DynamoDBSyncStore` does)
   */
  readonly tracker?: SyncRunTracker | null;
  /** Hears how each run ends. @default none */
  readonly notifier?: SyncNotifier;
  /** The kind of run, for the record. @default the resource */
  readonly runType?: string;
  /** What started it (`'schedule'`, `'manual'`), for the record. @default 'manual' */
  readonly trigger?: string;
  /** Who runs it: the lock's owner. @default a random id */
  readonly owner?: string;
  /**
   * How long the lock lasts without a cursor save (each save renews it), in milliseconds. Make it
   * longer than the longest gap between two saves, or the lock lapses and the run is fenced out.
   * @default 300000 (5 minutes)
   */
  readonly leaseDurationMs?: number;
  /**
   * When the run must stop, in milliseconds since the epoch: `checkTimeout()` turns true `reserveMs`
   * before it. On Lambda, `Date.now() + context.getRemainingTimeInMillis()`.
   * @default no deadline, unless `budgetMs` gives one
   */
  readonly deadline?: number;
  /** The run's time budget from its start, in milliseconds; the earlier of this and `deadline` counts. */
  readonly budgetMs?: number;
  /**
   * Time kept back before the deadline for the work in flight to finish and be saved.
   * @default 0
   */
  readonly reserveMs?: number;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** What a sync run's function is given. It is a `PaginationContext`, so it can be passed to `paginateCursor`. */
export interface SyncRunContext extends PaginationContext {
  readonly runId: string;
  readonly resource: string;
  /** The lock the run holds; its token fences every write made through `saveCursor` and `fence()`. */
  readonly lock: SyncLock;
  /** The saved cursor: as loaded at the start, then as last saved. */
  readonly cursor: string | undefined;
  /** Counters for the run record; add to them freely. */
  readonly counts: SyncCounts;
  /** The deadline in force, if any, in milliseconds since the epoch. */
  readonly deadline: number | undefined;
  /** True once the budget is spent (less than `reserveMs` left); the run is then recorded as partial. */
  checkTimeout(): boolean;
  /** Milliseconds left before the deadline less `reserveMs` (`Infinity` with no deadline). */
  remainingMs(): number;
  /** Saves the cursor, fenced by the lock and never over a newer save; renews the lock. */
  saveCursor(cursor: string | undefined): Promise<void>;
  /**
   * Transaction actions that hold only while this run's lock is current, to put beside writes made
   * elsewhere (`eventLog.commitWith(events, [...hashWrites, ...ctx.fence()])`). Empty for a store
   * that has none.
   */
  fence(): TransactWriteItem[];
}

/** How {@link withSyncRun} ended when it ran. */
export interface SyncRunDone<T> {
  /** `partial` when the budget stopped the run (or the function said so by returning `{ status: 'partial' }`). */
  readonly status: SyncStatus;
  readonly run: SyncRunRecord;
  /** What the function returned. */
  readonly value: T;
  readonly cursor: string | undefined;
  readonly counts: SyncCounts;
  /** An error the notifier threw; the run itself succeeded. */
  readonly notifierError?: unknown;
}

/** {@link withSyncRun} found the resource locked by another run, and did nothing. */
export interface SyncRunSkipped {
  readonly status: 'skipped';
  readonly resource: string;
}

/**
 * Runs one sync of a resource through its whole life, as @systemoperator/sync's `withSyncRun` does:
 * take the lock, record the run, load the cursor, run `fn`, record how it ended, release the lock,
 * tell the notifier. What it does better:
 *
 * - the lock has a fencing token, and every cursor save checks it in the same conditional write, so a
 *   run that paused past its lock (another run took over) can never move the cursor, backwards or
 *   at all; `ctx.fence()` extends that check to writes elsewhere;
 * - a held lock is an outcome (`{ status: 'skipped' }`), not an error;
 * - the time budget is part of the context, and a run that stops at it is recorded as `partial` with
 *   its cursor, for the next run to resume from.
 *
 * `fn`'s error fails the run: it is recorded, the notifier hears of it, the lock is released, and
 * the error is rethrown.
 *
 * @example
 * ```ts
 * const result = await withSyncRun(
 *   { resource: 'stripe-charges', tableName: 'sluice-state', trigger: 'schedule',
 *     deadline: Date.now() + context.getRemainingTimeInMillis(), reserveMs: 10_000 },
 *   (ctx) => paginateCursor(ctx, { fetchPage, processPage }),
 * );
 * if (result.status === 'skipped') return; // another run holds the lock
 * ```
 */
export async function withSyncRun<T>(
  options: WithSyncRunOptions,
  fn: (ctx: SyncRunContext) => Promise<T>,
): Promise<SyncRunDone<T> | SyncRunSkipped> {
  const settings = resolveOptions(options);
  const { resource, store, tracker, notifier, clock, leaseDurationMs } = settings;

  let lock = await store.acquireLock(resource, settings.owner, leaseDurationMs);
  if (!lock) {
    await notifier?.onRunSkipped?.(resource);
    return { status: 'skipped', resource };
  }
  const startedAt = clock();
  const deadline = earliest(
    settings.deadline,
    settings.budgetMs === undefined ? undefined : startedAt + settings.budgetMs,
  );
  const counts: SyncCounts = {
    pages: 0,
    fetched: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    failed: 0,
    retries: 0,
  };
  let run: SyncRunRecord | undefined;
  try {
    const saved = await store.loadCursor(resource);
    let cursor = saved?.cursor;
    let version = saved?.version ?? 0;
    let timedOut = false;
    run = {
      resource,
      runId: randomUUID(),
      runType: settings.runType,
      trigger: settings.trigger,
      owner: settings.owner,
      lockToken: lock.token,
      status: RUN_STATUS.started,
      startedAt,
      ...(cursor === undefined ? {} : { startCursor: cursor }),
    };
    await tracker?.startRun({ ...run, status: RUN_STATUS.started });

    const remainingMs = (): number =>
      deadline === undefined ? Number.POSITIVE_INFINITY : deadline - settings.reserveMs - clock();
    const heldLock = (): SyncLock => lock as SyncLock;
    const ctx: SyncRunContext = {
      runId: run.runId,
      resource,
      get lock() {
        return heldLock();
      },
      get cursor() {
        return cursor;
      },
      counts,
      deadline,
      checkTimeout: () => {
        if (remainingMs() <= 0) timedOut = true;
        return timedOut;
      },
      remainingMs,
      saveCursor: async (next) => {
        version = await store.saveCursor(heldLock(), {
          cursor: next,
          expectedVersion: version,
          leaseDurationMs,
        });
        lock = { ...heldLock(), expiresAt: clock() + leaseDurationMs };
        cursor = next;
      },
      fence: () => (store.fenceCondition ? [store.fenceCondition(heldLock())] : []),
    };

    const value = await fn(ctx);
    const status =
      timedOut || (value as { status?: unknown } | undefined)?.status === SYNC_STATUS.partial
        ? SYNC_STATUS.partial
        : SYNC_STATUS.complete;
    const ended: SyncRunRecord = {
      ...run,
      status: RUN_STATUS.finished,
      endedAt: clock(),
      outcome: status,
      counts: { ...counts },
      ...(cursor === undefined ? {} : { endCursor: cursor }),
    };
    await tracker?.endRun(ended);
    const notifierError = await notify(() => notifier?.onRunFinished?.(ended));
    return {
      status,
      run: ended,
      value,
      cursor,
      counts,
      ...(notifierError === undefined ? {} : { notifierError }),
    };
  } catch (error) {
    if (run) {
      const failed: SyncRunRecord = {
        ...run,
        status: RUN_STATUS.failed,
        endedAt: clock(),
        counts: { ...counts },
        error: errorSummary(error),
      };
      // The run's own error is the one to report; a failure to record it must not hide it.
      await tracker?.endRun(failed).catch(() => undefined);
      await notify(() => notifier?.onRunFailed?.(failed));
    }
    throw error;
  } finally {
    await store.releaseLock(lock).catch(() => undefined);
  }
}

interface ResolvedOptions {
  readonly resource: string;
  readonly store: SyncStateStore;
  readonly tracker: SyncRunTracker | undefined;
  readonly notifier: SyncNotifier | undefined;
  readonly runType: string;
  readonly trigger: string;
  readonly owner: string;
  readonly leaseDurationMs: number;
  readonly deadline: number | undefined;
  readonly budgetMs: number | undefined;
  readonly reserveMs: number;
  readonly clock: () => number;
}

function resolveOptions(options: WithSyncRunOptions): ResolvedOptions {
  const problems: string[] = [];
  try {
    assertResourceName(options?.resource);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (options.store === undefined && options.tableName === undefined) {
    problems.push('give tableName (for the DynamoDB stores) or store');
  }
  const leaseDurationMs = options.leaseDurationMs ?? DEFAULT_SYNC_LEASE_MS;
  const leaseProblem = wholeMillisecondsProblem('leaseDurationMs', leaseDurationMs, SYNC_LEASE_RANGE);
  if (leaseProblem) problems.push(leaseProblem);
  for (const key of ['deadline', 'budgetMs', 'reserveMs'] as const) {
    const value = options[key];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      problems.push(`${key} must be a finite number of milliseconds, 0 or more (given ${describe(value)})`);
    }
  }
  if (problems.length > 0)
    throw new ValidationError(`invalid sync run options: ${problems.join('; ')}`, options);

  const clock = options.clock ?? Date.now;
  const defaultStore =
    options.store === undefined
      ? new DynamoDBSyncStore({
          tableName: options.tableName as string,
          ...(options.client ? { client: options.client } : {}),
          clock,
        })
      : undefined;
  const store = options.store ?? (defaultStore as DynamoDBSyncStore);
  const tracker =
    options.tracker === null ? undefined : (options.tracker ?? (isTracker(store) ? store : undefined));
  return {
    resource: options.resource,
    store,
    tracker,
    notifier: options.notifier,
    runType: options.runType ?? options.resource,
    trigger: options.trigger ?? 'manual',
    owner: options.owner ?? `sync-${randomUUID()}`,
    leaseDurationMs,
    deadline: options.deadline,
    budgetMs: options.budgetMs,
    reserveMs: options.reserveMs ?? 0,
    clock,
  };
}

function isTracker(store: unknown): store is SyncRunTracker {
  const candidate = store as Partial<SyncRunTracker>;
  return typeof candidate.startRun === 'function' && typeof candidate.endRun === 'function';
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

async function notify(call: () => void | Promise<void> | undefined): Promise<unknown> {
  try {
    await call();
    return undefined;
  } catch (error) {
    return error ?? new Error('the notifier threw a nullish value');
  }
}

function errorSummary(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: describe(error) };
}
