import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventLog, type StoredEvent } from '../../lib';
import { LeaseLostError } from '../../lib/errors';
import { httpJsonSource, type IngestSource, type JsonRecord, runIngest } from '../../lib/ingest';
import { RetriesExhaustedError } from '../../lib/retry';
import { DynamoDBSyncStore, HttpStatusError } from '../../lib/sync';
import { createStreamTable, dynamodbClient, uniqueName } from '../support/aws';
import { customers, type PagedApi, startPagedApi } from '../support/paged-api';

interface IngestedData {
  readonly key: string;
  readonly action: 'created' | 'updated';
  readonly record: JsonRecord;
}

let client: DynamoDBClient;
let eventsTable: { name: string; drop(): Promise<void> };
let stateTable: { name: string; drop(): Promise<void> };
let eventLog: EventLog;
let api: PagedApi | undefined;

beforeAll(async () => {
  client = dynamodbClient();
  [eventsTable, stateTable] = await Promise.all([
    createStreamTable(client, 'ingest-events'),
    createStreamTable(client, 'ingest-state'),
  ]);
  eventLog = new EventLog({ tableName: eventsTable.name, client });
});

afterAll(async () => {
  await Promise.all([eventsTable.drop(), stateTable.drop()]);
});

afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** A source over the test API with its own name, so each test has its own lock, cursor and hashes. */
function sourceFor(server: PagedApi): IngestSource<JsonRecord> {
  return httpJsonSource({ name: uniqueName('crm'), url: server.url, eventType: 'customer.changed' });
}

/** Every event committed to `stream` (each test has its own), in commit order. */
async function committed(stream: string): Promise<StoredEvent<IngestedData>[]> {
  const events: StoredEvent<IngestedData>[] = [];
  let cursor: string | undefined;
  do {
    const page = await eventLog.range<IngestedData>(stream, { limit: 1000, ...(cursor ? { cursor } : {}) });
    events.push(...page.events);
    cursor = page.cursor;
  } while (cursor);
  return events;
}

/** Waits recorded, and slept for a hundredth of the time: Retry-After is honoured, scaled. */
function scaledSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return {
    delays,
    sleep: (ms) => {
      delays.push(ms);
      return new Promise((resolve) => setTimeout(resolve, ms / 100));
    },
  };
}

/** A small retry policy so that backoff waits stay short; Retry-After raises them. */
const QUICK = { maxAttempts: 4, initialDelayMs: 20, maxDelayMs: 200, backoffFactor: 2 } as const;

function ingest(
  source: IngestSource<JsonRecord>,
  stream: string,
  extra: Partial<Parameters<typeof runIngest<JsonRecord>>[0]> = {},
) {
  return runIngest({
    source,
    eventLog,
    stream,
    stateTable: stateTable.name,
    client,
    retry: { preset: QUICK },
    ...extra,
  });
}

describe('runIngest against a paged HTTP API', () => {
  it('commits every record once on the first run, then only new and changed records', async () => {
    // Prepare: 25 records, 10 a page.
    api = await startPagedApi({ records: customers(25), pageSize: 10 });
    const source = sourceFor(api);
    const stream = uniqueName('customers');

    // Act: run 1, then change two records and add three, then run 2.
    const first = await ingest(source, stream);
    api.records.set('c-004', { id: 'c-004', name: 'Customer 004 (renamed)' });
    api.records.set('c-017', {
      ...(api.records.get('c-017') as JsonRecord as { id: string; name: string }),
      address: { city: 'Bergen' },
    });
    for (const record of customers(3, 26)) api.records.set(record.id, record);
    const second = await ingest(source, stream);

    // Assess
    expect(first).toMatchObject({ status: 'complete', cursor: undefined });
    expect(first.counts).toMatchObject({ pages: 3, fetched: 25, created: 25, updated: 0, unchanged: 0 });
    expect(second.counts).toMatchObject({ pages: 3, fetched: 28, created: 3, updated: 2, unchanged: 23 });
    const events = await committed(stream);
    expect(events).toHaveLength(30);
    expect(events.map((event) => event.id)).toEqual([...first.eventIds, ...second.eventIds]);
    const updates = events.filter((event) => event.data.action === 'updated');
    expect(updates.map((event) => event.data.key)).toEqual(['c-004', 'c-017']);
    expect(updates[0]?.data.record).toEqual({ id: 'c-004', name: 'Customer 004 (renamed)' });
    expect(
      events.every((event) => event.type === 'customer.changed' && event.partitionKey === event.data.key),
    ).toBe(true);
  });

  it("waits what a 429's Retry-After asks, in seconds or as an HTTP date, and retries 503s and cut connections", async () => {
    // Prepare: the first page is refused three times, the second twice.
    api = await startPagedApi({ records: customers(15), pageSize: 10 });
    const source = sourceFor(api);
    const stream = uniqueName('customers');
    const now = Date.parse('2026-11-22T10:00:00Z');
    api.faults.push(
      { status: 429, retryAfter: '1' },
      { status: 503 },
      { status: 429, retryAfter: new Date(now + 3_000).toUTCString() },
    );
    api.faultFor = (cursor) =>
      cursor === 'c-010' && api?.requests.filter((r) => r.cursor === 'c-010').length === 0
        ? { destroy: true }
        : undefined;
    const { delays, sleep } = scaledSleep();

    // Act
    const result = await ingest(source, stream, {
      retry: { preset: QUICK, jitter: 'none', sleep, now: () => now },
    });

    // Assess
    expect(result.status).toBe('complete');
    expect(result.counts).toMatchObject({ created: 15, retries: 4 });
    expect(delays).toEqual([1_000, 40, 3_000, 20]);
    expect(api.requests.map((request) => request.status)).toEqual([429, 503, 429, 200, 'destroyed', 200]);
    expect(await committed(stream)).toHaveLength(15);
  });

  it('caps a Retry-After that asks for too long', async () => {
    api = await startPagedApi({ records: customers(3), pageSize: 10 });
    api.faults.push({ status: 429, retryAfter: '86400' });
    const { delays, sleep } = scaledSleep();

    const result = await ingest(sourceFor(api), uniqueName('customers'), {
      retry: { preset: QUICK, jitter: 'none', sleep, maxRetryAfterMs: 500 },
    });

    expect(result.counts.created).toBe(3);
    expect(delays).toEqual([500]);
  });

  it('fails at once on a 4xx other than 429, commits nothing and leaves the source unlocked', async () => {
    // Prepare
    api = await startPagedApi({ records: customers(5), pageSize: 10 });
    const source = sourceFor(api);
    const stream = uniqueName('customers');
    api.faults.push({ status: 403 });

    // Act
    const failed = ingest(source, stream);

    // Assess: one request, no retry; the next run is not locked out.
    await expect(failed).rejects.toThrow(HttpStatusError);
    await expect(failed).rejects.toThrow(/answered HTTP 403/);
    expect(api.requests).toHaveLength(1);
    const next = await ingest(source, stream);
    expect(next.counts.created).toBe(5);
  });

  it('stops at its time budget with the cursor saved, and the next run resumes there', async () => {
    // Prepare: 50 records in 5 pages; the test clock moves 10 s with each request; the budget is 25 s.
    api = await startPagedApi({ records: customers(50), pageSize: 10 });
    const source = sourceFor(api);
    const stream = uniqueName('customers');
    let clockMs = Date.parse('2026-11-22T10:00:00Z');
    api.onRequest = () => {
      clockMs += 10_000;
    };
    const clock = () => clockMs;

    // Act
    const first = await ingest(source, stream, { clock, budgetMs: 25_000 });
    const second = await ingest(source, stream, { clock, budgetMs: 25_000 });

    // Assess: run 1 read three pages and stopped before the fourth; run 2 started at its cursor.
    expect(first).toMatchObject({ status: 'partial', cursor: 'c-030' });
    expect(first.counts).toMatchObject({ pages: 3, created: 30 });
    expect(second).toMatchObject({ status: 'complete', cursor: undefined });
    expect(second.counts).toMatchObject({ pages: 2, created: 20, unchanged: 0 });
    expect(api.requests.map((request) => request.cursor)).toEqual([
      undefined,
      'c-010',
      'c-020',
      'c-030',
      'c-040',
    ]);
    const keys = (await committed(stream)).map((event) => event.data.key);
    expect(keys).toEqual(customers(50).map((record) => record.id));
  });

  it('resumes a run that crashed after a commit landed, committing nothing twice and losing nothing', async () => {
    // Prepare: the process "dies" right after its 15th commit reaches DynamoDB, before it can record
    // anything else: page 1's cursor is saved, page 2 is half committed.
    api = await startPagedApi({ records: customers(25), pageSize: 10 });
    const source = sourceFor(api);
    const stream = uniqueName('customers');
    const crashing = dynamodbClient();
    let transactions = 0;
    crashing.middlewareStack.add(
      (next, context) => async (args) => {
        // A dead process makes no further calls: the 15th commit lands, and every call after it fails
        // (a single failure would be taken for a lost response, retried and recognised as the same
        // commit). Its lock stays taken until it expires, as a real crash leaves it.
        if (transactions >= 15) throw new Error('process killed after the 15th commit');
        const output = await next(args);
        if (context.commandName === 'TransactWriteItemsCommand' && ++transactions === 15) {
          throw new Error('process killed after the 15th commit');
        }
        return output;
      },
      { step: 'initialize', name: 'testCrashAfterCommit' },
    );
    const crashingLog = new EventLog({ tableName: eventsTable.name, client: crashing });

    // Act
    const crashed = runIngest({
      source,
      eventLog: crashingLog,
      stream,
      stateTable: stateTable.name,
      client: crashing,
      leaseDurationMs: 1_000,
    });
    await expect(crashed).rejects.toThrow(/process killed after the 15th commit/);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const resumed = await ingest(source, stream);

    // Assess: run 2 started at page 2; records 11-15 were found unchanged, 16-25 committed.
    expect(api.requests.map((request) => request.cursor)).toEqual([undefined, 'c-010', 'c-010', 'c-020']);
    expect(resumed.counts).toMatchObject({ pages: 2, created: 10, unchanged: 5 });
    const keys = (await committed(stream)).map((event) => event.data.key);
    expect(keys).toEqual(customers(25).map((record) => record.id));
  });

  it('resumes from the last page finished after the API kept failing on a page', async () => {
    // Prepare: page 3 fails on every attempt of run 1.
    api = await startPagedApi({ records: customers(30), pageSize: 10 });
    const source = sourceFor(api);
    const stream = uniqueName('customers');
    let failPageThree = true;
    api.faultFor = (cursor) => (cursor === 'c-020' && failPageThree ? { status: 503 } : undefined);
    const { sleep } = scaledSleep();

    // Act
    const failed = ingest(source, stream, { retry: { preset: QUICK, sleep } });
    await expect(failed).rejects.toThrow(RetriesExhaustedError);
    failPageThree = false;
    const resumed = await ingest(source, stream);

    // Assess
    expect(resumed.counts).toMatchObject({ pages: 1, created: 10, unchanged: 0 });
    expect(api.requests.filter((request) => request.status === 503)).toHaveLength(QUICK.maxAttempts);
    const keys = (await committed(stream)).map((event) => event.data.key);
    expect(keys).toEqual(customers(30).map((record) => record.id));
  });

  it('fences out a run that paused past its lock: it commits nothing more and cannot move the cursor', async () => {
    // Prepare: run A stalls on its second page; its lock (2 s on the test clock) expires meanwhile.
    api = await startPagedApi({ records: customers(20), pageSize: 10 });
    const source = sourceFor(api);
    const stream = uniqueName('customers');
    let offsetMs = 0;
    const clock = () => Date.now() + offsetMs;
    let release: () => void = () => {};
    const stalled = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reachedPageTwo: () => void = () => {};
    const atPageTwo = new Promise<void>((resolve) => {
      reachedPageTwo = resolve;
    });
    let stallOnce = true;
    api.onRequest = async (cursor) => {
      if (cursor === 'c-010' && stallOnce) {
        stallOnce = false;
        reachedPageTwo();
        await stalled;
      }
    };

    // Act: A starts; once it stalls, time moves past its lock, B runs the whole source, and a record
    // on page 2 changes; then A's stalled request completes.
    const runA = ingest(source, stream, { clock, leaseDurationMs: 2_000, owner: 'run-a' });
    await atPageTwo;
    offsetMs += 5_000;
    const runB = await ingest(source, stream, { clock, leaseDurationMs: 60_000, owner: 'run-b' });
    api.records.set('c-015', { id: 'c-015', name: 'changed after run B' });
    release();

    // Assess: B took over at A's saved cursor (page 2); A's later commit of the change was refused by
    // the fence, and the cursor B left (back to the start, the sweep being complete) stands.
    await expect(runA).rejects.toMatchObject({ constructor: LeaseLostError, lease: 'sync' });
    await expect(runA).rejects.toThrow(/a commit of record 'c-015' found the lock taken over or expired/);
    expect(runB).toMatchObject({ status: 'complete', cursor: undefined });
    expect(runB.counts).toMatchObject({ pages: 1, created: 10, unchanged: 0 });
    expect(api.requests.map((request) => request.cursor)).toEqual([undefined, 'c-010', 'c-010']);
    const store = new DynamoDBSyncStore({ tableName: stateTable.name, client });
    expect(await store.loadCursor(source.name)).toMatchObject({ cursor: undefined, version: 2 });
    const runs = await store.listRuns(source.name);
    expect(runs.map((run) => [run.owner, run.status, run.error?.name])).toEqual(
      expect.arrayContaining([
        ['run-a', 'failed', 'LeaseLostError'],
        ['run-b', 'finished', undefined],
      ]),
    );
    const events = await committed(stream);
    expect(events.map((event) => event.data.key)).toEqual(customers(20).map((record) => record.id));
    expect(events.some((event) => event.data.record.name === 'changed after run B')).toBe(false);
  });
});
