import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitOutcomeUnknownError, EventLog } from '../../lib';
import { ConflictError, LeaseLostError, MissingResourceError } from '../../lib/errors';
import {
  computeContentHash,
  DynamoDBContentHashStore,
  DynamoDBSyncStore,
  type SyncRunRecord,
  upsertWithHash,
  withSyncRun,
} from '../../lib/sync';
import { createStreamTable, dynamodbClient, uniqueName } from '../support/aws';

let client: DynamoDBClient;
let eventsTable: { name: string; drop(): Promise<void> };
let stateTable: { name: string; drop(): Promise<void> };
let eventLog: EventLog;
let hashes: DynamoDBContentHashStore;

beforeAll(async () => {
  client = dynamodbClient();
  [eventsTable, stateTable] = await Promise.all([
    createStreamTable(client, 'sync-events'),
    createStreamTable(client, 'sync-state'),
  ]);
  eventLog = new EventLog({ tableName: eventsTable.name, client });
  hashes = new DynamoDBContentHashStore({ tableName: stateTable.name, client });
});

afterAll(async () => {
  await Promise.all([eventsTable.drop(), stateTable.drop()]);
});

/** A `write` for upsertWithHash that commits one event with the hash write. */
function commitTo(stream: string, data: unknown) {
  return async (hashWrite: Parameters<NonNullable<Parameters<typeof upsertWithHash>[0]['write']>>[0]) => {
    await eventLog.commitWith([{ stream, type: 'record.changed', data }], [hashWrite]);
  };
}

describe('upsertWithHash', () => {
  it('reports created, then unchanged, then updated, with one conditional write each', async () => {
    // Prepare
    const resource = uniqueName('res');
    const v1 = computeContentHash({ name: 'a' });
    const v2 = computeContentHash({ name: 'b' });

    // Act
    const created = await upsertWithHash({ store: hashes, resource, key: 'r-1', hash: v1 });
    const unchanged = await upsertWithHash({ store: hashes, resource, key: 'r-1', hash: v1 });
    const updated = await upsertWithHash({ store: hashes, resource, key: 'r-1', hash: v2 });

    // Assess
    expect(created).toEqual({ action: 'created', hash: v1, conflicts: 0 });
    expect(unchanged).toMatchObject({ action: 'unchanged', hash: v1 });
    expect(updated).toEqual({ action: 'updated', hash: v2, previousHash: v1, conflicts: 0 });
    expect(await hashes.getHash(resource, 'r-1')).toBe(v2);
  });

  it('commits once when two writers race with the same content, and says which one lost', async () => {
    // Prepare: both writers believe the record is new.
    const resource = uniqueName('res');
    const stream = uniqueName('race');
    const hash = computeContentHash({ name: 'same' });

    // Act
    const results = await Promise.all(
      [1, 2].map((writer) =>
        upsertWithHash({
          store: hashes,
          resource,
          key: 'r-1',
          hash,
          knownHash: null,
          write: commitTo(stream, { writer }),
        }),
      ),
    );

    // Assess
    const actions = results.map((result) => [result.action, result.conflicts]).sort();
    expect(actions).toEqual([
      ['created', 0],
      ['unchanged', 1],
    ]);
    expect((await eventLog.range(stream)).events).toHaveLength(1);
  });

  it('commits both when two writers race with different content: the loser re-reads and updates', async () => {
    const resource = uniqueName('res');
    const stream = uniqueName('race');
    const [a, b] = [computeContentHash({ v: 'a' }), computeContentHash({ v: 'b' })];

    const [first, second] = await Promise.all([
      upsertWithHash({
        store: hashes,
        resource,
        key: 'r-1',
        hash: a,
        knownHash: null,
        write: commitTo(stream, 'a'),
      }),
      upsertWithHash({
        store: hashes,
        resource,
        key: 'r-1',
        hash: b,
        knownHash: null,
        write: commitTo(stream, 'b'),
      }),
    ]);

    const outcomes = [first, second].map((result) => `${result.action}/${result.conflicts}`).sort();
    expect(outcomes).toEqual(['created/0', 'updated/1']);
    const loser = first.action === 'updated' ? first : second;
    expect(loser.previousHash).toBe(loser === first ? b : a);
    expect((await eventLog.range(stream)).events).toHaveLength(2);
  });

  it('settles a commit whose outcome is unknown by reading the hash: no second commit when it landed', async () => {
    // Prepare: the commit lands, but the writer hears only that its outcome is unknown.
    const resource = uniqueName('res');
    const stream = uniqueName('unknown');
    const hash = computeContentHash({ name: 'x' });
    let writes = 0;

    // Act
    const result = await upsertWithHash({
      store: hashes,
      resource,
      key: 'r-1',
      hash,
      write: async (hashWrite) => {
        writes += 1;
        const [id] = await eventLog.commitWith([{ stream, type: 'record.changed', data: {} }], [hashWrite]);
        throw new CommitOutcomeUnknownError({
          eventIds: [id as string],
          elapsedMs: 1_200,
          deadlineMs: 1_000,
        });
      },
    });

    // Assess
    expect(result).toMatchObject({ action: 'created', conflicts: 0 });
    expect(writes).toBe(1);
    expect((await eventLog.range(stream)).events).toHaveLength(1);
  });
});

describe('withSyncRun', () => {
  it('records the run, hands over the saved cursor, and is skipped while another run holds the lock', async () => {
    // Prepare
    const resource = uniqueName('res');
    const store = new DynamoDBSyncStore({ tableName: stateTable.name, client });
    const heard: string[] = [];
    const notifier = {
      onRunFinished: (run: SyncRunRecord) => void heard.push(`finished ${run.endCursor}`),
      onRunSkipped: (name: string) => void heard.push(`skipped ${name === resource}`),
    };

    // Act: run 1 saves a cursor; while run 2 holds the lock, run 3 is skipped; run 2 ends partial.
    await withSyncRun({ resource, store, notifier }, (ctx) => ctx.saveCursor('page-2'));
    let skipped: unknown;
    const second = await withSyncRun({ resource, store, notifier, budgetMs: 0 }, async (ctx) => {
      skipped = await withSyncRun({ resource, store, notifier }, async () => 'never');
      expect(ctx.checkTimeout()).toBe(true);
      return ctx.cursor;
    });

    // Assess
    expect(skipped).toEqual({ status: 'skipped', resource });
    expect(second).toMatchObject({ status: 'partial', value: 'page-2', cursor: 'page-2' });
    expect(heard).toEqual(['finished page-2', 'skipped true', 'finished page-2']);
    const runs = await store.listRuns(resource);
    expect(runs.map((run) => [run.status, run.outcome])).toEqual([
      ['finished', 'partial'],
      ['finished', 'complete'],
    ]);
    expect(runs[0]?.lockToken).toBe((runs[1]?.lockToken ?? 0) + 1);
  });

  it('fails the run, records the error and releases the lock when the function throws', async () => {
    const resource = uniqueName('res');
    const store = new DynamoDBSyncStore({ tableName: stateTable.name, client });
    const failedRuns: SyncRunRecord[] = [];

    const run = withSyncRun(
      { resource, store, notifier: { onRunFailed: (r) => void failedRuns.push(r) } },
      async () => {
        throw new TypeError('bad record');
      },
    );

    await expect(run).rejects.toThrow('bad record');
    expect(failedRuns.map((r) => r.error)).toEqual([{ name: 'TypeError', message: 'bad record' }]);
    const next = await withSyncRun({ resource, store }, async () => 'ran');
    expect(next).toMatchObject({ status: 'complete', value: 'ran' });
  });

  it('reports a notifier that throws, without failing a run that succeeded', async () => {
    const result = await withSyncRun(
      {
        resource: uniqueName('res'),
        tableName: stateTable.name,
        client,
        notifier: {
          onRunFinished: () => {
            throw new Error('pager down');
          },
        },
      },
      async () => 1,
    );
    expect(result).toMatchObject({ status: 'complete', value: 1, notifierError: new Error('pager down') });
  });
});

describe('DynamoDBSyncStore', () => {
  it('refuses a cursor save from a run whose lock expired and was taken over', async () => {
    // Prepare: run A's lock expires on the test clock, and B takes the resource.
    const resource = uniqueName('res');
    let now = Date.parse('2026-11-22T10:00:00Z');
    const store = new DynamoDBSyncStore({ tableName: stateTable.name, client, clock: () => now });
    const a = await store.acquireLock(resource, 'run-a', 5_000);
    await store.saveCursor(a!, { cursor: 'p-5', expectedVersion: 0, leaseDurationMs: 5_000 });
    now += 6_000;
    const b = await store.acquireLock(resource, 'run-b', 5_000);
    await store.saveCursor(b!, { cursor: 'p-9', expectedVersion: 1, leaseDurationMs: 5_000 });

    // Act: A wakes up and saves the cursor it had reached, which is behind B's.
    const stale = store.saveCursor(a!, { cursor: 'p-6', expectedVersion: 1, leaseDurationMs: 5_000 });

    // Assess
    await expect(stale).rejects.toMatchObject({ constructor: LeaseLostError, lease: 'sync' });
    await expect(stale).rejects.toThrow(/another run took the resource over \(current token 2\)/);
    expect(b?.token).toBe((a?.token ?? 0) + 1);
    expect(await store.loadCursor(resource)).toMatchObject({ cursor: 'p-9', version: 2, token: b?.token });
  });

  it('refuses a save over a cursor that was reset while the run held the lock', async () => {
    const resource = uniqueName('res');
    const store = new DynamoDBSyncStore({ tableName: stateTable.name, client });
    const lock = await store.acquireLock(resource, 'run-a', 60_000);

    await store.resetCursor(resource, 'from-here');
    const save = store.saveCursor(lock!, { cursor: 'p-2', expectedVersion: 0, leaseDurationMs: 60_000 });

    await expect(save).rejects.toMatchObject({ constructor: ConflictError, kind: 'cursor-moved' });
    expect(await store.loadCursor(resource)).toMatchObject({ cursor: 'from-here', version: 1 });
  });
});

describe('the sync stores on a table that does not exist', () => {
  it('fail with a MissingResourceError naming the state table, as every store of it does', async () => {
    // Prepare
    const missing = uniqueName('no-such-state');
    const store = new DynamoDBSyncStore({ tableName: missing, client });
    const hashStore = new DynamoDBContentHashStore({ tableName: missing, client });
    const named = { constructor: MissingResourceError, resource: 'state table', tableName: missing };

    // Act and assess
    await expect(store.acquireLock('res', 'run-a', 5_000)).rejects.toMatchObject(named);
    await expect(store.loadCursor('res')).rejects.toMatchObject(named);
    await expect(hashStore.getHash('res', 'r-1')).rejects.toMatchObject(named);
    await expect(hashStore.putIfChanged('res', 'r-1', computeContentHash({ a: 1 }))).rejects.toMatchObject(
      named,
    );
  });
});
