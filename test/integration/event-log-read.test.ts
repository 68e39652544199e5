import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventLog, type Position, positionAtTime, type StoredEvent } from '../../lib';
import { eventIdToEpochMs } from '../../lib/time/event-id';
import { lastDeliveredBound, positionAtBucketStart } from '../../lib/time/position';
import { timeBucketOf } from '../../lib/time/time-bucket';
import { createStreamTable, dynamodbClient, uniqueName } from '../support/aws';
import { eventLogFor, seededRandom, steppingIdGenerator } from '../support/fixtures';

const dynamodb = dynamodbClient();
const TYPES = ['placed', 'paid', 'shipped'] as const;
const EVENT_COUNT = 1_200;
const HOUR = 3_600_000;
// From 20:00 on 28 February 2024 across the leap day into March, with quiet hours in between.
const START_MS = Date.UTC(2024, 1, 28, 20);

let table: Awaited<ReturnType<typeof createStreamTable>>;
let log: EventLog;
let stream: string;
let committed: { id: string; type: string; partitionKey?: string; index: number }[];

beforeAll(async () => {
  table = await createStreamTable(dynamodb);
  stream = uniqueName('orders');
  const random = seededRandom(7);
  // About 5 minutes between commits, with a jump of 3 to 6 hours every 20 commits.
  const ids = steppingIdGenerator(START_MS, (index) =>
    index > 0 && index % 20 === 0 ? (3 + Math.floor(random() * 4)) * HOUR : Math.floor(random() * 600_000),
  );
  log = eventLogFor(dynamodb, table.name, { idGenerator: ids, streams: { [stream]: { writeShards: 4 } } });
  const inputs = Array.from({ length: EVENT_COUNT }, (_, index) => ({
    stream,
    type: TYPES[index % 3] as string,
    data: { index },
    ...(index % 5 === 0 ? {} : { partitionKey: `customer-${index % 17}` }),
  }));
  committed = [];
  // Commits of 1 to 7 events: each is one segment, its events sharing one instant.
  const sizes = [1, 3, 7, 2, 5, 4];
  for (let start = 0, commits = 0; start < EVENT_COUNT; commits += 1) {
    const chunk = inputs.slice(start, start + (sizes[commits % sizes.length] as number));
    const chunkIds = await log.commit(chunk);
    chunkIds.forEach((id, offset) => {
      const input = chunk[offset] as (typeof inputs)[number];
      committed.push({
        id,
        type: input.type,
        index: start + offset,
        ...('partitionKey' in input ? { partitionKey: input.partitionKey } : {}),
      });
    });
    start += chunk.length;
  }
}, 120_000);
afterAll(() => table.drop());

const allIds = () => committed.map((event) => event.id);

async function pageThrough(
  read: (cursor?: string) => Promise<{ events: StoredEvent[]; cursor?: string }>,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    ids.push(...page.events.map((event) => event.id));
    cursor = page.cursor;
  } while (cursor);
  return ids;
}

describe('EventLog reads across buckets and shards', () => {
  it('spreads the events over more than 30 hourly buckets and all four shards', async () => {
    const buckets = new Set(allIds().map((id) => timeBucketOf(eventIdToEpochMs(id))));
    expect(buckets.size).toBeGreaterThan(30);
    const listed = await log.listTimeBuckets(stream);
    expect(listed).toEqual([...buckets].sort());
    const index = await dynamodb.send(
      new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `b#${stream}` } },
      }),
    );
    const shardsUsed = new Set((index.Items ?? []).flatMap((item) => item.shards?.NS ?? []));
    expect([...shardsUsed].sort()).toEqual(['0', '1', '2', '3']);
  });

  it('pages through every event exactly once, in id order', async () => {
    const ids = await pageThrough((cursor) =>
      log.range(stream, { limit: 37, ...(cursor ? { cursor } : {}) }),
    );
    expect(ids).toEqual(allIds());
  });

  it('pages backwards through every event exactly once, newest first', async () => {
    const ids = await pageThrough((cursor) =>
      log.revrange(stream, { limit: 50, ...(cursor ? { cursor } : {}) }),
    );
    expect(ids).toEqual([...allIds()].reverse());
  });

  it('reads a time window of some types, and counts it', async () => {
    const from = new Date(START_MS + 5 * HOUR + 17 * 60_000);
    const to = new Date(START_MS + 40 * HOUR);
    const expected = committed
      .filter((event) => event.type !== 'placed')
      .filter(
        (event) => eventIdToEpochMs(event.id) >= from.getTime() && eventIdToEpochMs(event.id) <= to.getTime(),
      )
      .map((event) => event.id);
    expect(expected.length).toBeGreaterThan(50);
    const ids = await pageThrough((cursor) =>
      log.range(stream, { from, to, types: ['paid', 'shipped'], limit: 40, ...(cursor ? { cursor } : {}) }),
    );
    expect(ids).toEqual(expected);
    expect(await log.count(stream, { from, to, types: ['paid', 'shipped'] })).toBe(expected.length);
    expect(await log.count(stream)).toBe(EVENT_COUNT);
  });

  it('includes or leaves out the ends of an id range as asked', async () => {
    const ids = allIds();
    const [from, to] = [ids[140] as string, ids[160] as string];
    expect((await log.range(stream, { from, to })).events.map((event) => event.id)).toEqual(
      ids.slice(140, 161),
    );
    expect((await log.range(stream, { from, to, exclusive: true })).events.map((event) => event.id)).toEqual(
      ids.slice(141, 160),
    );
    expect(await log.count(stream, { from, to, exclusive: true })).toBe(19);
  });

  it('finds the next and the closest buckets, skipping quiet hours', async () => {
    const buckets = await log.listTimeBuckets(stream);
    const gapAt = buckets.findIndex(
      (bucket, index) => index > 0 && bucketGap(buckets[index - 1] as string, bucket) > 1,
    );
    expect(gapAt).toBeGreaterThan(0);
    const [before, after] = [buckets[gapAt - 1] as string, buckets[gapAt] as string];
    expect(await log.nextTimeBucket(stream, before)).toBe(after);
    const inTheGap = bucketStart(before) + HOUR + 1;
    expect(await log.closestTimeBucket(stream, inTheGap, 'after')).toBe(after);
    expect(await log.closestTimeBucket(stream, inTheGap, 'before')).toBe(before);
    expect(await log.nextTimeBucket(stream, buckets.at(-1) as string)).toBeUndefined();
    expect(await log.listTimeBuckets(stream, { reverse: true, limit: 3 })).toEqual(
      buckets.slice(-3).reverse(),
    );
    expect(await log.listTimeBuckets(stream, { from: before, to: after })).toEqual([before, after]);
  });

  it('reads after a position page by page up to the settled horizon, then stands at the horizon', async () => {
    let position: Position = positionAtBucketStart(timeBucketOf(START_MS));
    const seen: string[] = [];
    let pages = 0;
    for (;;) {
      const page = await log.readAfter(stream, position, { limit: 100 });
      seen.push(...page.events.map((event) => event.id));
      position = page.position;
      pages += 1;
      if (page.caughtUp) break;
    }
    expect(seen).toEqual(allIds());
    expect(pages).toBe(EVENT_COUNT / 100 + 1);
    expect(lastDeliveredBound(position) > (allIds().at(-1) as string)).toBe(true);
    expect(lastDeliveredBound(position) <= (await log.settledHorizon(stream))).toBe(true);
    expect((await log.readAfter(stream, position, { limit: 100 })).events).toEqual([]);
  });

  it('stops a read at until, and starts one "from a time"', async () => {
    const ids = allIds();
    const startAt = eventIdToEpochMs(ids[300] as string);
    const stopAt = positionAtTime(eventIdToEpochMs(ids[420] as string));
    const page = await log.readAfter(stream, positionAtTime(startAt), {
      limit: 1000,
      until: stopAt,
      types: ['paid'],
    });
    const stopMs = eventIdToEpochMs(ids[420] as string);
    const expected = committed
      .filter((event) => {
        const ms = eventIdToEpochMs(event.id);
        return event.type === 'paid' && ms >= startAt && ms < stopMs;
      })
      .map((event) => event.id);
    expect(page.events.map((event) => event.id)).toEqual(expected);
    expect(page.caughtUp).toBe(true);
    expect(page.position).toEqual(stopAt);
  });

  it('keeps each event whole: data, type and partition key', async () => {
    const sample = committed[123] as (typeof committed)[number];
    const event = await log.get(stream, sample.id);
    expect(event).toMatchObject({ id: sample.id, type: sample.type, data: { index: 123 } });
    expect(event?.partitionKey).toBe(sample.partitionKey);
  });
});

function bucketStart(bucket: string): number {
  return Date.UTC(
    Number(bucket.slice(0, 4)),
    Number(bucket.slice(4, 6)) - 1,
    Number(bucket.slice(6, 8)),
    Number(bucket.slice(8, 10)),
  );
}

function bucketGap(a: string, b: string): number {
  return (bucketStart(b) - bucketStart(a)) / HOUR;
}
