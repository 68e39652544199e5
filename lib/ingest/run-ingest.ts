import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LeaseLostError } from '../errors';
import type { EventLog } from '../event-log/event-log';
import { assertStreamName } from '../event-log/names';
import type { WithRetryOptions } from '../retry/with-retry';
import type { SyncStatus } from '../sync/constants';
import { computeContentHash } from '../sync/content-hash';
import { DynamoDBContentHashStore } from '../sync/content-hash-store';
import { DynamoDBSyncStore } from '../sync/dynamodb-sync-store';
import { fetchJson } from '../sync/http';
import { assertRecordKey } from '../sync/keys';
import { paginateCursor } from '../sync/paginate';
import { type SyncRunContext, withSyncRun } from '../sync/run';
import type { SyncCounts, SyncNotifier } from '../sync/types';
import { upsertWithHash } from '../sync/upsert';
import type { IngestSource } from './types';

/** Options of {@link runIngest}. */
export interface RunIngestOptions<TRecord> {
  /** What to page and how its records become events. */
  readonly source: IngestSource<TRecord>;
  /** Where events are committed. */
  readonly eventLog: EventLog;
  /** The stream new and changed records are committed to. */
  readonly stream: string;
  /** The state table: the source's lock, cursor, run records and content hashes. */
  readonly stateTable: string;
  /** @default a new DynamoDBClient from the environment */
  readonly client?: DynamoDBClient;
  /**
   * When the run must stop, in milliseconds since the epoch (on Lambda:
   * `Date.now() + context.getRemainingTimeInMillis()`). The run saves its cursor and stops as
   * `partial` before fetching a page with less than `reserveMs` left.
   * @default no deadline, unless `budgetMs` gives one
   */
  readonly deadline?: number;
  /** The run's time budget from its start, in milliseconds. @default none */
  readonly budgetMs?: number;
  /** Time kept back for the page in flight. @default 0 */
  readonly reserveMs?: number;
  /**
   * How HTTP calls are retried (`withRetry` options). The run's deadline and clock are added unless given.
   * @default { preset: 'standard', maxRetryAfterMs: 60000 }
   */
  readonly retry?: WithRetryOptions;
  /** @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
  /** How long the source's lock lasts between cursor saves, in milliseconds. @default 300000 */
  readonly leaseDurationMs?: number;
  /** What started the run, for its record. @default 'manual' */
  readonly trigger?: string;
  /** The lock's owner. @default a random id */
  readonly owner?: string;
  /** Hears how each run ends. */
  readonly notifier?: SyncNotifier;
  /** The clock of leases and deadlines. @default Date.now */
  readonly clock?: () => number;
}

/** What one ingest run did. */
export interface IngestResult {
  /**
   * `complete`: the last page was read; `partial`: the time budget stopped the run, and the next one
   * resumes at `cursor`; `skipped`: another run held the source's lock.
   */
  readonly status: SyncStatus | 'skipped';
  readonly runId?: string;
  /** Where the next run starts (`undefined`: the first page). */
  readonly cursor?: string | undefined;
  /** Pages and records fetched, records created, updated and unchanged, HTTP retries. */
  readonly counts: SyncCounts;
  /** The ids of the events committed, in commit order. */
  readonly eventIds: readonly string[];
}

/**
 * One ingest run: pages an external HTTP API from its saved cursor and commits each new or changed
 * record to `stream` as an event, skipping records whose content hash is unchanged.
 *
 * - **Exactly one event per change.** Each record's event and its new content hash are written in one
 *   DynamoDB transaction (`EventLog.commitWith`), conditional on the hash it replaces. A crash at any
 *   point leaves both or neither; the page is fetched again by the next run and what was committed
 *   is found unchanged. Two writers racing on one record cannot both commit it.
 * - **Fenced.** Runs of one source take its lock (with a fencing token); every commit and cursor save
 *   checks it, so a run that paused past its lock writes nothing more.
 * - **Resumable.** The cursor is saved after each page; at the time budget the run stops as
 *   `partial`, and the next one resumes there. After the last page, the next run starts over
 *   (`source.whenDone`).
 * - **Retries.** 429 and 5xx answers and network failures are retried, waiting what `Retry-After` asks
 *   (capped); other 4xx fail the run at once.
 *
 * @throws whatever stopped the run (after recording it as failed and releasing the lock):
 * `RetriesExhaustedError`, `HttpStatusError`, `LeaseLostError` with lease `sync`, `ValidationError` for a page or
 * record the source cannot read.
 *
 * @example
 * ```ts
 * const result = await runIngest({
 *   source: httpJsonSource({ name: 'crm-customers', url: 'https://crm.example.com/customers', eventType: 'customer.changed' }),
 *   eventLog: new EventLog({ tableName: 'sluice-events' }),
 *   stream: 'customers',
 *   stateTable: 'sluice-state',
 *   deadline: Date.now() + context.getRemainingTimeInMillis(),
 *   reserveMs: 10_000,
 * });
 * console.log(result.status, result.counts.created, result.counts.updated, result.counts.unchanged);
 * ```
 */
export async function runIngest<TRecord>(options: RunIngestOptions<TRecord>): Promise<IngestResult> {
  const { source, stream } = options;
  assertStreamName(stream);
  const clock = options.clock ?? Date.now;
  const clientOption = options.client ? { client: options.client } : {};
  const syncStore = new DynamoDBSyncStore({ tableName: options.stateTable, ...clientOption, clock });
  const hashes = new DynamoDBContentHashStore({ tableName: options.stateTable, ...clientOption, clock });
  const eventIds: string[] = [];

  const outcome = await withSyncRun(
    {
      resource: source.name,
      store: syncStore,
      runType: 'ingest',
      trigger: options.trigger ?? 'manual',
      clock,
      ...pick(options, ['deadline', 'budgetMs', 'reserveMs', 'leaseDurationMs', 'owner', 'notifier']),
    },
    async (ctx) => {
      const headers = (await source.headers?.()) ?? {};
      const retry: WithRetryOptions = {
        ...(ctx.deadline === undefined ? {} : { deadlineMs: ctx.deadline }),
        now: clock,
        ...options.retry,
        onRetry: (info) => {
          ctx.counts.retries += 1;
          options.retry?.onRetry?.(info);
        },
      };
      return paginateCursor<TRecord>(ctx, {
        ...(source.whenDone === undefined ? {} : { whenDone: source.whenDone }),
        fetchPage: async (cursor) => {
          const body = await fetchJson(source.url(cursor), {
            headers,
            retry,
            ...(options.fetch ? { fetch: options.fetch } : {}),
          });
          const page = source.parsePage(body);
          return { items: page.records, nextCursor: page.nextCursor };
        },
        processPage: (records) => commitChanges(ctx, records, { ...options, hashes, eventIds }),
      });
    },
  );

  if (outcome.status === 'skipped') {
    return { status: 'skipped', counts: emptyCounts(), eventIds };
  }
  return {
    status: outcome.status,
    runId: outcome.run.runId,
    cursor: outcome.cursor,
    counts: outcome.counts,
    eventIds,
  };
}

/** Commits the new and changed records of one page, each with its hash, in page order. */
async function commitChanges<TRecord>(
  ctx: SyncRunContext,
  records: readonly TRecord[],
  options: RunIngestOptions<TRecord> & { hashes: DynamoDBContentHashStore; eventIds: string[] },
): Promise<void> {
  const { source, eventLog, stream, hashes, eventIds } = options;
  const keyed = records.map((record) => {
    const key = source.recordKey(record);
    assertRecordKey(key);
    return { record, key, hash: computeContentHash(source.contentOf ? source.contentOf(record) : record) };
  });
  // One batch read for the page; a record whose hash moved since is caught by the write's condition.
  const known = await hashes.getHashes(
    source.name,
    keyed.map(({ key }) => key),
  );
  for (const { record, key, hash } of keyed) {
    const result = await upsertWithHash({
      store: hashes,
      resource: source.name,
      key,
      hash,
      knownHash: known.get(key) ?? null,
      write: async (hashWrite, change) => {
        const event = source.toEvent(record, { ...change, key });
        const fence = ctx.fence();
        try {
          const [id] = await eventLog.commitWith(
            [{ stream, type: event.type, data: event.data, partitionKey: event.partitionKey ?? key }],
            [hashWrite, ...fence],
          );
          eventIds.push(id as string);
        } catch (error) {
          // The fence is the second of the other writes: its condition failing means the lock is gone.
          if (fence.length > 0 && cancellationCode(error, 1) === 'ConditionalCheckFailed') {
            throw new LeaseLostError({
              lease: 'sync',
              resource: source.name,
              token: ctx.lock.token,
              reason: `a commit of record '${key}' found the lock taken over or expired`,
            });
          }
          throw error;
        }
      },
    });
    known.set(key, hash);
    ctx.counts[result.action] += 1;
  }
}

/** The cancellation code DynamoDB gave the transaction action at `index`, from a `CommitError`'s cause. */
function cancellationCode(error: unknown, index: number): string | undefined {
  const cause = (error as { cause?: { name?: string; CancellationReasons?: { Code?: string }[] } }).cause;
  if (cause?.name !== 'TransactionCanceledException') return undefined;
  return cause.CancellationReasons?.[index]?.Code;
}

function emptyCounts(): SyncCounts {
  return { pages: 0, fetched: 0, created: 0, updated: 0, unchanged: 0, failed: 0, retries: 0 };
}

function pick<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (object[key] !== undefined) picked[key] = object[key];
  return picked;
}
