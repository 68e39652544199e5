import { randomBytes } from 'node:crypto';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchCommitError,
  CommitError,
  CommitOutcomeUnknownError,
  CorruptEventError,
  EventLogWriter,
} from '../../lib';
import { TooLargeError } from '../../lib/errors';
import { injectFaults } from '../../lib/testing/faults';
import { EventIdGenerator, eventIdToEpochMs } from '../../lib/time/event-id';
import { TIME_BUCKET_MS, timeBucketOf, timeBucketStartMs } from '../../lib/time/time-bucket';
import { createStreamTable, dynamodbClient, uniqueName } from '../support/aws';
import { eventLogFor, sleep } from '../support/fixtures';

/** A fault plan's draw that fails the first eligible call and no other. */
function firstCallOnly(): () => number {
  let calls = 0;
  return () => (calls++ === 0 ? 0 : 1);
}

const dynamodb = dynamodbClient();
let table: Awaited<ReturnType<typeof createStreamTable>>;

beforeAll(async () => {
  table = await createStreamTable(dynamodb);
});
afterAll(() => table.drop());

describe('EventLog commit', () => {
  it('commits one event and reads it back by id', async () => {
    const log = eventLogFor(dynamodb, table.name);
    const stream = uniqueName('orders');
    const before = Date.now();
    const id = await log.commit({
      stream,
      type: 'order.placed',
      data: { orderId: 'o-1', total: 12.5 },
      partitionKey: 'customer-7',
    });
    const event = await log.get(stream, id);
    expect(event).toMatchObject({
      id,
      stream,
      type: 'order.placed',
      data: { orderId: 'o-1', total: 12.5 },
      partitionKey: 'customer-7',
    });
    expect(event?.time.getTime()).toBe(eventIdToEpochMs(id));
    expect(eventIdToEpochMs(id)).toBeGreaterThanOrEqual(before);
    expect(await log.get(stream, new EventIdGenerator().next())).toBeUndefined();
  });

  it('commits through an EventLogWriter what an EventLog on the same table reads, under the same checks', async () => {
    // Prepare
    const writer = new EventLogWriter({ tableName: table.name, client: dynamodb });
    const stream = uniqueName('orders');

    // Act
    const [first, second] = await writer.commit([
      { stream, type: 'order.placed', data: { orderId: 'o-1' } },
      { stream, type: 'order.paid', data: { orderId: 'o-1' } },
    ]);
    const refused = await writer
      .commit({ stream, type: 'order.placed', data: { blob: randomBytes(400_000).toString('base64') } })
      .catch((error: unknown) => error);

    // Assess
    const reader = eventLogFor(dynamodb, table.name);
    expect((await reader.get(stream, first as string))?.type).toBe('order.placed');
    expect((await reader.get(stream, second as string))?.type).toBe('order.paid');
    expect(refused).toMatchObject({ constructor: TooLargeError, what: 'event' });
    expect(await reader.count(stream)).toBe(2);
  });

  it('commits many events across streams atomically, ids in input order', async () => {
    const log = eventLogFor(dynamodb, table.name);
    const [orders, ledger] = [uniqueName('orders'), uniqueName('ledger')];
    const ids = await log.commit([
      { stream: orders, type: 'order.paid', data: { orderId: 'o-1' } },
      { stream: ledger, type: 'entry.added', data: { amount: 42 } },
      { stream: orders, type: 'order.shipped', data: { orderId: 'o-1' } },
    ]);
    expect(ids).toHaveLength(3);
    expect([...ids].sort()).toEqual(ids);
    expect((await log.range(orders)).events.map((event) => event.type)).toEqual([
      'order.paid',
      'order.shipped',
    ]);
    expect((await log.range(ledger)).events.map((event) => event.data)).toEqual([{ amount: 42 }]);
  });

  it('fails an atomic commit as a whole, naming the event at fault and why', async () => {
    const [orders, ledger] = [uniqueName('orders'), uniqueName('ledger')];
    const at = Date.UTC(2024, 4, 1, 12, 30);
    const zeros = (buffer: Uint8Array) => buffer.fill(0);
    // Ids are predictable with a fixed clock and no randomness: occupy the key the second event will get.
    const predicted = new EventIdGenerator({ now: () => at, fillRandom: zeros });
    predicted.next();
    const secondId = predicted.next();
    await dynamodb.send(
      new PutItemCommand({
        TableName: table.name,
        Item: {
          pk: { S: `e#${ledger}#${timeBucketOf(at)}#0` },
          sk: { S: secondId },
          type: { S: 'squatter' },
          data: { S: '{}' },
        },
      }),
    );
    const log = eventLogFor(dynamodb, table.name, {
      clock: () => at,
      idGenerator: new EventIdGenerator({ now: () => at, fillRandom: zeros }),
    });

    const commit = log.commit([
      { stream: orders, type: 'order.paid', data: { orderId: 'o-1' } },
      { stream: ledger, type: 'entry.added', data: { amount: 42 } },
    ]);

    const error = await commit.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CommitError);
    expect((error as CommitError).message).toMatch(
      new RegExp(
        `nothing was written: event 1 \\(stream '${ledger}', type 'entry.added', id ${secondId}\\): ConditionalCheckFailed`,
      ),
    );
    expect((error as CommitError).reasons).toEqual(['None', 'ConditionalCheckFailed']);
    expect((await log.range(orders)).events).toEqual([]);
    expect((await log.range(ledger)).events.map((event) => event.type)).toEqual(['squatter']);
  });

  it('commitWith names the refused write of the caller’s own in otherWriteReasons, and writes nothing', async () => {
    const log = eventLogFor(dynamodb, table.name);
    const stream = uniqueName('orders');
    const claim = { pk: { S: `test#${uniqueName('claim')}` }, sk: { S: 'claim' } };
    await dynamodb.send(new PutItemCommand({ TableName: table.name, Item: claim }));
    const mustBeNew = {
      Put: { TableName: table.name, Item: claim, ConditionExpression: 'attribute_not_exists(pk)' },
    };
    const free = {
      Put: {
        TableName: table.name,
        Item: { pk: { S: `test#${uniqueName('free')}` }, sk: { S: 'free' } },
      },
    };

    const error = await log
      .commitWith([{ stream, type: 'order.placed', data: { orderId: 'o-1' } }], [free, mustBeNew])
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(CommitError);
    expect((error as CommitError).otherWriteReasons).toEqual(['None', 'ConditionalCheckFailed']);
    expect((error as CommitError).reasons).toEqual(['None']);
    expect((await log.range(stream)).events).toEqual([]);
    const freeItem = await dynamodb.send(
      new GetItemCommand({ TableName: table.name, Key: free.Put.Item, ConsistentRead: true }),
    );
    expect(freeItem.Item).toBeUndefined();
  });

  it('commits many events without atomicity through commitBatched', async () => {
    const log = eventLogFor(dynamodb, table.name, { streams: {} });
    const stream = uniqueName('imports');
    const ids = await log.commitBatched(
      Array.from({ length: 60 }, (_, index) => ({ stream, type: 'row', data: { index } })),
      { concurrency: 8 },
    );
    expect(new Set(ids).size).toBe(60);
    const { events } = await log.range(stream, { limit: 100 });
    expect(events.map((event) => event.id)).toEqual([...ids].sort());
    expect(new Set(events.map((event) => (event.data as { index: number }).index)).size).toBe(60);
  });

  it('fails a commitBatched part-way with what became of every event: ids committed, the failure, events not attempted', async () => {
    const log = eventLogFor(dynamodb, table.name);
    const stream = uniqueName('imports');
    const rows = Array.from({ length: 8 }, (_, index) => ({
      stream,
      type: 'row',
      // Event 5 is over DynamoDB's item limit: refused when its turn comes.
      data: index === 5 ? 'x'.repeat(410_000) : { index },
    }));

    const error = await log.commitBatched(rows, { concurrency: 1 }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(BatchCommitError);
    const { outcomes, committedIds } = error as BatchCommitError;
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      ...Array(5).fill('committed'),
      'failed',
      'not-attempted',
      'not-attempted',
    ]);
    expect((outcomes[5] as { error: Error }).error).toMatchObject({
      constructor: TooLargeError,
      what: 'event',
    });
    expect((error as Error).message).toMatch(
      /5 of 8 events committed, 1 failed \(nothing written\) at event 5, 0 of unknown outcome at none, 2 not attempted; event 5: event of type 'row' .* over the limit/,
    );
    const { events } = await log.range(stream);
    expect(events.map((event) => event.id)).toEqual(committedIds);
    expect(events.map((event) => event.data)).toEqual([0, 1, 2, 3, 4].map((index) => ({ index })));
  });

  it('recognises the SDK retry of a single-event commit whose first response was lost: stored once, under its id', async () => {
    const client = dynamodbClient();
    const log = eventLogFor(client, table.name);
    const stream = uniqueName('lost');
    await log.commit({ stream, type: 'warm-up', data: {} }); // the bucket index is written
    // The put is applied, then its response is replaced by a network error; the SDK retries it.
    const faults = injectFaults(client, {
      rate: 1,
      seed: 0,
      random: firstCallOnly(),
      kinds: ['timeout'],
      operations: ['PutItemCommand'],
    });

    const id = await log.commit({ stream, type: 'order.placed', data: { orderId: 'o-1' } });

    expect(faults.counts().injected).toBe(1);
    const { events } = await log.range(stream);
    expect(events.map((event) => [event.type, event.id])).toEqual([
      ['warm-up', events[0]?.id],
      ['order.placed', id],
    ]);
  });

  it('recognises the SDK retry of an atomic commit whose first response was lost: stored once', async () => {
    const client = dynamodbClient();
    const log = eventLogFor(client, table.name);
    const stream = uniqueName('lost');
    await log.commit({ stream, type: 'warm-up', data: {} });
    injectFaults(client, {
      rate: 1,
      seed: 0,
      random: firstCallOnly(),
      kinds: ['timeout'],
      operations: ['TransactWriteItemsCommand'],
    });

    const ids = await log.commit([
      { stream, type: 'a', data: {} },
      { stream, type: 'b', data: {} },
    ]);

    const { events } = await log.range(stream);
    expect(events.map((event) => event.id).slice(1)).toEqual(ids);
  });

  it('says the outcome is unknown, with the ids, when a response is lost beyond the SDK retries; get() settles it', async () => {
    const client = dynamodbClient();
    const log = eventLogFor(client, table.name);
    const stream = uniqueName('lost');
    await log.commit({ stream, type: 'warm-up', data: {} });
    injectFaults(client, {
      rate: 1,
      seed: 0,
      random: firstCallOnly(),
      kinds: ['timeout'],
      operations: ['PutItemCommand'],
      placement: 'per-call',
    });

    const error = await log
      .commit({ stream, type: 'order.placed', data: {} })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(CommitOutcomeUnknownError);
    const [id] = (error as CommitOutcomeUnknownError).eventIds;
    expect((error as Error).message).toMatch(
      new RegExp(
        `commit of 1 event\\(s\\) failed with TimeoutError .* which does not say whether DynamoDB applied it; it may or may not have been written: check with get\\(\\) \\(ids ${id}\\)`,
      ),
    );
    expect(await log.get(stream, id as string)).toMatchObject({ id, type: 'order.placed' });
  });

  it('says nothing was written when DynamoDB refused the first and only attempt (throttled)', async () => {
    const client = dynamodbClient();
    const log = eventLogFor(client, table.name);
    const stream = uniqueName('throttled');
    await log.commit({ stream, type: 'warm-up', data: {} });
    injectFaults(client, {
      rate: 1,
      seed: 0,
      random: firstCallOnly(),
      kinds: ['throttle'],
      operations: ['PutItemCommand'],
      placement: 'per-call',
    });

    const error = await log
      .commit({ stream, type: 'order.placed', data: {} })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(CommitError);
    expect((error as Error).message).toMatch(/failed with ThrottlingException: .*; nothing was written/);
    expect((await log.range(stream)).events.map((event) => event.type)).toEqual(['warm-up']);
  });

  it('writes the bucket index of an hour once when commits running at once start it', async () => {
    // Prepare: a client that counts the index writes (UpdateItem is the log's index write only).
    const client = dynamodbClient();
    let indexWrites = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand') indexWrites += 1;
        return next(args);
      },
      { step: 'initialize', name: 'testCountIndexWrites' },
    );
    const log = eventLogFor(client, table.name);
    const stream = uniqueName('together');
    // Not across the turn of an hour, which starts a second bucket.
    const untilNextHourMs = TIME_BUCKET_MS - (Date.now() % TIME_BUCKET_MS);
    if (untilNextHourMs < 5_000) await sleep(untilNextHourMs + 10);

    // Act: eight single-event commits at once, into one hour and one shard.
    const ids = await Promise.all(
      Array.from({ length: 8 }, (_, n) => log.commit({ stream, type: 'order.placed', data: { n } })),
    );
    await log.commit({ stream, type: 'order.paid', data: {} });

    // Assess
    expect(indexWrites).toBe(1);
    expect(await log.count(stream)).toBe(9);
    expect(await log.listTimeBuckets(stream)).toEqual([timeBucketOf(eventIdToEpochMs(ids[0] as string))]);
    client.destroy();
  });

  it('writes the retention time on events and on the bucket index', async () => {
    const stream = uniqueName('short');
    const log = eventLogFor(dynamodb, table.name, { streams: { [stream]: { retentionSeconds: 3600 } } });
    const id = await log.commit({ stream, type: 'ping', data: null });
    const bucket = timeBucketOf(eventIdToEpochMs(id));
    const event = await dynamodb.send(
      new GetItemCommand({
        TableName: table.name,
        Key: { pk: { S: `e#${stream}#${bucket}#0` }, sk: { S: id } },
      }),
    );
    expect(event.Item?.expiresAt?.N).toBe(String(Math.floor(eventIdToEpochMs(id) / 1000) + 3600));
    const index = await dynamodb.send(
      new GetItemCommand({ TableName: table.name, Key: { pk: { S: `b#${stream}` }, sk: { S: bucket } } }),
    );
    expect(index.Item?.expiresAt?.N).toBe(String((timeBucketStartMs(bucket) + TIME_BUCKET_MS) / 1000 + 3600));
    const kept = uniqueName('kept');
    const keptId = await eventLogFor(dynamodb, table.name).commit({ stream: kept, type: 'ping', data: null });
    const keptBucket = timeBucketOf(eventIdToEpochMs(keptId));
    const keptEvent = await dynamodb.send(
      new GetItemCommand({
        TableName: table.name,
        Key: { pk: { S: `e#${kept}#${keptBucket}#0` }, sk: { S: keptId } },
      }),
    );
    expect(keptEvent.Item).toBeDefined();
    expect(keptEvent.Item?.expiresAt).toBeUndefined();
  });

  it('fails when the table does not exist, naming it', async () => {
    const log = eventLogFor(dynamodb, table.name.replace('events', 'missing'));
    const commit = log.commit({ stream: 'orders', type: 'order.placed', data: {} });
    await expect(commit).rejects.toThrow(CommitError);
    await expect(log.commit({ stream: 'orders', type: 'order.placed', data: {} })).rejects.toThrow(
      /the event log table '.*missing.*' does not exist/,
    );
  });

  it('fails a read of a stored item whose data is not JSON, naming the event', async () => {
    const log = eventLogFor(dynamodb, table.name);
    const stream = uniqueName('corrupt');
    const id = await log.commit({ stream, type: 'fine', data: {} });
    const bucket = timeBucketOf(eventIdToEpochMs(id));
    await dynamodb.send(
      new PutItemCommand({
        TableName: table.name,
        Item: {
          pk: { S: `e#${stream}#${bucket}#0` },
          sk: { S: id },
          type: { S: 'fine' },
          data: { S: '{oops' },
        },
      }),
    );
    await expect(log.range(stream)).rejects.toThrow(CorruptEventError);
    await expect(log.get(stream, id)).rejects.toThrow(
      new RegExp(`event ${id} on stream '${stream}' cannot be read: its data is not JSON`),
    );
  });
});
