import { BatchWriteItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EventLog,
  type Position,
  positionAfterEvent,
  positionAtTime,
  type ReadAfterPage,
} from '../../lib';
import { DEFAULT_READ_MAX_BYTES, DEFAULT_READ_MAX_QUERIES } from '../../lib/event-log/constants';
import { eventPartitionKey } from '../../lib/event-log/keys';
import { eventIdToEpochMs } from '../../lib/time/event-id';
import { comparePositions, lastDeliveredBound } from '../../lib/time/position';
import { createStreamTable, dynamodbClient, uniqueName } from '../support/aws';
import { eventLogFor, steppingIdGenerator } from '../support/fixtures';
import { countQueries } from '../support/inject';

const dynamodb = dynamodbClient();
const HOUR = 3_600_000;
// The events of these tests are hours old when they are committed, so no reader tails them: their
// writers may take longer than the default commit deadline, as they do on a loaded machine.
const PATIENT_WRITER = { commitDeadlineMs: 10_000, settleWindowMs: 15_000 } as const;
let table: Awaited<ReturnType<typeof createStreamTable>>;

beforeAll(async () => {
  table = await createStreamTable(dynamodb);
});
afterAll(() => table.drop());

/**
 * Commits `count` events of `type` one at a time, one every `stepMs` from `startMs`: each is an item
 * of its own, so that the reads below examine as many items as events.
 */
async function commitMany(log: EventLog, stream: string, type: string, count: number): Promise<string[]> {
  return log.commitBatched(
    Array.from({ length: count }, (_, index) => ({ stream, type, data: { n: index } })),
    { concurrency: count > 100 ? 16 : 1 },
  );
}

async function readAll(
  log: EventLog,
  stream: string,
  from: Position,
  options: Parameters<EventLog['readAfter']>[2],
  onPage: (page: ReadAfterPage) => void = () => undefined,
): Promise<ReadAfterPage[]> {
  const pages: ReadAfterPage[] = [];
  let position = from;
  for (let calls = 0; calls < 1_000; calls += 1) {
    const page = await log.readAfter(stream, position, options);
    pages.push(page);
    onPage(page);
    expect(comparePositions(page.position, position)).toBeGreaterThan(0);
    position = page.position;
    if (page.caughtUp) break;
  }
  return pages;
}

describe('EventLog.readAfter bounds the work of one call', () => {
  const stream = uniqueName('filtered');
  const startMs = Date.now() - 6 * HOUR;
  let wanted: string[];

  beforeAll(async () => {
    const writer = eventLogFor(dynamodb, table.name, {
      idGenerator: steppingIdGenerator(startMs, () => 5_000),
      ...PATIENT_WRITER,
      streams: { [stream]: { writeShards: 2 } },
    });
    await commitMany(writer, stream, 'noise', 3_000);
    wanted = await commitMany(writer, stream, 'wanted', 5);
  }, 120_000);

  it('crosses a backlog of other types in calls of bounded queries, each moving the position past what it examined', async () => {
    // Prepare
    const client = dynamodbClient();
    const meter = countQueries(client);
    const reader = eventLogFor(client, table.name);
    const queriesPerCall: number[] = [];

    // Act
    const pages = await readAll(
      reader,
      stream,
      positionAtTime(startMs),
      { limit: 10, types: ['wanted'] },
      () => {
        queriesPerCall.push(meter.take().queries);
      },
    );

    // Assess
    expect(pages.flatMap((page) => page.events.map((event) => event.id))).toEqual(wanted);
    expect(pages.length).toBeGreaterThan(3);
    // One query of each shard may be in flight when the bound is reached.
    expect(Math.max(...queriesPerCall)).toBeLessThanOrEqual(DEFAULT_READ_MAX_QUERIES + 2);
    const early = pages.filter((page) => !page.caughtUp && page.events.length === 0);
    expect(early.length).toBeGreaterThan(2);
  });

  it('finds the first event of the types asked for with firstCommittedAfter, in looks of bounded work', async () => {
    // Prepare
    const reader = eventLogFor(dynamodbClient(), table.name);

    // Act: each look that is cut short names the last id it examined; the next starts after it
    const first = await reader.firstCommittedAfter(stream, positionAtTime(startMs), { types: ['wanted'] });
    let found = first;
    let looks = 1;
    while (found !== undefined && !wanted.includes(found) && looks < 200) {
      found = await reader.firstCommittedAfter(stream, positionAfterEvent(found), { types: ['wanted'] });
      looks += 1;
    }
    const anyType = await reader.firstCommittedAfter(stream, positionAtTime(startMs));
    const none = await reader.firstCommittedAfter(stream, positionAfterEvent(wanted[0] as string), {
      types: ['noise'],
    });

    // Assess
    expect(first).toBeDefined();
    expect(wanted).not.toContain(first);
    expect(looks).toBeGreaterThan(1);
    expect(found).toBe(wanted[0]);
    expect(anyType).toBeDefined();
    expect((anyType as string) < (first as string)).toBe(true);
    expect(none).toBeUndefined();
  });

  it('stops a call at maxItemsRead items examined', async () => {
    // Prepare
    const client = dynamodbClient();
    const meter = countQueries(client);
    const reader = eventLogFor(client, table.name);
    const itemsPerCall: number[] = [];

    // Act
    const pages = await readAll(
      reader,
      stream,
      positionAtTime(startMs),
      { limit: 500, types: ['wanted'], maxItemsRead: 400 },
      () => {
        itemsPerCall.push(meter.take().items);
      },
    );

    // Assess
    expect(pages.flatMap((page) => page.events.map((event) => event.id))).toEqual(wanted);
    // A call stops once the bound is reached: at most one page of each of the two shards beyond it.
    expect(Math.max(...itemsPerCall)).toBeLessThanOrEqual(400 + 2 * 251);
    expect(pages.length).toBeGreaterThanOrEqual(3_005 / (400 + 2 * 251));
  });

  it('fails when a bound is not a whole number of at least 1', async () => {
    const reader = eventLogFor(dynamodb, table.name);
    await expect(
      reader.readAfter(stream, positionAtTime(startMs), { limit: 10, maxItemsRead: 0 }),
    ).rejects.toThrow('maxItemsRead must be a whole number of at least 1 (given 0)');
    await expect(
      reader.readAfter(stream, positionAtTime(startMs), { limit: 10, maxBytes: 1.5 }),
    ).rejects.toThrow('maxBytes must be a whole number of at least 1 (given 1.5)');
  });
});

describe('EventLog.readAfter bounds a page by bytes', () => {
  const stream = uniqueName('large');
  const startMs = Date.now() - 2 * HOUR;
  const large = 'x'.repeat(300_000);
  let ids: string[];

  beforeAll(async () => {
    const writer = eventLogFor(dynamodb, table.name, {
      idGenerator: steppingIdGenerator(startMs, () => 1_000),
      ...PATIENT_WRITER,
    });
    ids = [];
    for (let index = 0; index < 24; index += 1)
      ids.push(await writer.commit({ stream, type: 'document', data: { index, large } }));
  }, 120_000);

  it(`holds at most ${DEFAULT_READ_MAX_BYTES} bytes of events in a page by default, and every event once`, async () => {
    // Act
    const pages = await readAll(eventLogFor(dynamodb, table.name), stream, positionAtTime(startMs), {
      limit: 500,
    });

    // Assess
    expect(pages.flatMap((page) => page.events.map((event) => event.id))).toEqual(ids);
    expect(pages[0]?.events).toHaveLength(13);
    expect(pages[0]?.caughtUp).toBe(false);
    for (const page of pages)
      expect(page.events.length * (large.length + 100)).toBeLessThanOrEqual(DEFAULT_READ_MAX_BYTES);
  });

  it('returns an event larger than maxBytes alone rather than nothing', async () => {
    const page = await eventLogFor(dynamodb, table.name).readAfter(stream, positionAtTime(startMs), {
      limit: 500,
      maxBytes: 1_024,
    });
    expect(page.events.map((event) => event.id)).toEqual(ids.slice(0, 1));
    expect(page.position).toEqual(positionAfterEvent(ids[0] as string));
    expect(page.caughtUp).toBe(false);
  });
});

describe('EventLog.readAfter and retention', () => {
  const RETENTION_SECONDS = 3_600;
  const stream = uniqueName('kept-an-hour');
  // One event every 10 minutes, from 3 hours ago to 15 minutes ago: 5 minutes away from any expiry
  // boundary a test run could meet.
  const startMs = Date.now() - 3 * HOUR + 5 * 60_000;
  let ids: string[];
  let deleted: string[];

  beforeAll(async () => {
    const writer = eventLogFor(dynamodb, table.name, {
      idGenerator: steppingIdGenerator(startMs - 600_000, () => 600_000),
      ...PATIENT_WRITER,
      streams: { [stream]: { retentionSeconds: RETENTION_SECONDS } },
    });
    ids = [];
    for (let index = 0; index < 17; index += 1)
      ids.push(await writer.commit({ stream, type: 'reading', data: { index } }));
    // DynamoDB Local never deletes expired items: delete them as TTL would, events and index entries.
    const nowSeconds = Math.floor(Date.now() / 1000);
    deleted = ids.filter((id) => Math.floor(eventIdToEpochMs(id) / 1000) + RETENTION_SECONDS <= nowSeconds);
    const index = await dynamodb.send(
      new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `b#${stream}` } },
      }),
    );
    const expiredEntries = (index.Items ?? []).filter((item) => Number(item.expiresAt?.N) <= nowSeconds);
    expect(expiredEntries.length).toBeGreaterThan(0);
    await dynamodb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [table.name]: [
            ...deleted.map((id) => ({
              pk: { S: eventPartitionKey(stream, positionAfterEvent(id).timeBucket, 0) },
              sk: { S: id },
            })),
            ...expiredEntries.map((item) => ({ pk: item.pk as { S: string }, sk: item.sk as { S: string } })),
          ].map((Key) => ({ DeleteRequest: { Key } })),
        },
      }),
    );
  }, 60_000);

  it('names the range a lagging reader may have lost, though the reader knows no retention', async () => {
    // Prepare: a reader configured as a deployed fetcher is, without the stream's settings.
    const reader = eventLogFor(dynamodb, table.name);
    const from = positionAtTime(startMs - HOUR);

    // Act
    const page = await reader.readAfter(stream, from, { limit: 500 });

    // Assess
    expect(deleted.length).toBe(12);
    expect(page.events.map((event) => event.id)).toEqual(ids.slice(deleted.length));
    expect(page.expired?.from).toEqual(from);
    const to = lastDeliveredBound(page.expired?.to as Position);
    expect(to >= (deleted.at(-1) as string)).toBe(true);
    expect(to < (ids[deleted.length] as string)).toBe(true);
  });

  it('says nothing to a reader past the expired events, or at the very beginning ("earliest")', async () => {
    const reader = eventLogFor(dynamodb, table.name);
    const recent = await reader.readAfter(stream, positionAfterEvent(ids[deleted.length] as string), {
      limit: 500,
    });
    expect(recent.expired).toBeUndefined();
    const earliest = await reader.readAfter(stream, { timeBucket: '19700101000000' }, { limit: 500 });
    expect(earliest.expired).toBeUndefined();
    expect(earliest.events).toHaveLength(ids.length - deleted.length);
  });

  it('keeps a bucket index entry as long as the longest-lived event it leads to', async () => {
    // Prepare: three writers index the same hour, the one with the shortest retention last.
    const indexed = uniqueName('indexed');
    const hourMs = Date.UTC(2024, 4, 1, 12);
    const writer = (retentionSeconds?: number) =>
      eventLogFor(dynamodb, table.name, {
        idGenerator: steppingIdGenerator(hourMs, () => 1_000),
        ...PATIENT_WRITER,
        streams: { [indexed]: retentionSeconds === undefined ? {} : { retentionSeconds } },
      });
    const expiryOfIndex = async () => {
      const output = await dynamodb.send(
        new QueryCommand({
          TableName: table.name,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: `b#${indexed}` } },
        }),
      );
      return output.Items?.[0]?.expiresAt?.N;
    };
    const hourEndsAt = (hourMs + HOUR) / 1000;

    // Act and assess
    await writer(7_200).commit({ stream: indexed, type: 't', data: 1 });
    await writer(600).commit({ stream: indexed, type: 't', data: 2 });
    expect(await expiryOfIndex()).toBe(String(hourEndsAt + 7_200));
    await writer(86_400).commit({ stream: indexed, type: 't', data: 3 });
    expect(await expiryOfIndex()).toBe(String(hourEndsAt + 86_400));
    await writer().commit({ stream: indexed, type: 't', data: 4 });
    expect(await expiryOfIndex()).toBeUndefined();
    await writer(600).commit({ stream: indexed, type: 't', data: 5 });
    expect(await expiryOfIndex()).toBeUndefined();
  });
});

describe('EventLog.readAfter sizes its queries by what the stream holds', () => {
  it('asks for about as many stored items as the next page needs, once it has seen how many events an item holds', async () => {
    // Prepare: 20 commits of 50 events, each one stored item, well inside one past hour.
    const stream = uniqueName('segments');
    const startMs = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR + 60_000;
    const writer = eventLogFor(dynamodb, table.name, {
      idGenerator: steppingIdGenerator(startMs, () => 10),
      ...PATIENT_WRITER,
    });
    for (let commit = 0; commit < 20; commit += 1)
      await writer.commit(
        Array.from({ length: 50 }, (_, n) => ({ stream, type: 'tick', data: { commit, n } })),
      );
    const client = dynamodbClient();
    const queries = countQueries(client);
    const reader = eventLogFor(client, table.name, PATIENT_WRITER);

    // Act: two pages of 100 events.
    const first = await reader.readAfter(stream, positionAtTime(startMs - 1), { limit: 100 });
    const firstWork = queries.take();
    const second = await reader.readAfter(stream, first.position, { limit: 100 });
    const secondWork = queries.take();

    // Assess: the second page reads the bucket index entry and three items (101 events wanted, 50
    // an item), not the ten a reader that knows nothing of the stream starts with.
    expect(first.events).toHaveLength(100);
    expect(second.events).toHaveLength(100);
    expect((second.events[0]?.id ?? '') > (first.events.at(-1)?.id ?? '')).toBe(true);
    expect(firstWork.items).toBe(11);
    expect(secondWork.items).toBe(4);
    client.destroy();
  }, 60_000);
});

describe('firstCommittedAfter', () => {
  it('finds the first event past a position before it has settled, across write shards, and nothing past the last', async () => {
    // Prepare: a stream spread over four write shards; events commit now, inside the settle window
    const stream = uniqueName('pending');
    const log = eventLogFor(dynamodb, table.name, { streams: { [stream]: { writeShards: 4 } } });
    const before = positionAtTime(Date.now() - 60_000);
    const ids = await log.commitBatched(
      Array.from({ length: 8 }, (_, index) => ({ stream, type: 'order', data: { n: index } })),
      { concurrency: 1 },
    );
    const sorted = [...ids].sort();

    // Act
    const first = await log.firstCommittedAfter(stream, before);
    const afterThird = await log.firstCommittedAfter(stream, positionAfterEvent(sorted[2] as string));
    const afterLast = await log.firstCommittedAfter(stream, positionAfterEvent(sorted[7] as string));
    const page = await log.readAfter(stream, before, { limit: 10 });

    // Assess: found though a tailing read does not return them yet
    expect(page.events).toEqual([]);
    expect(first).toBe(sorted[0]);
    expect(afterThird).toBe(sorted[3]);
    expect(afterLast).toBeUndefined();
  });
});
