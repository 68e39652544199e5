import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { EventLog, ValidationError } from '../../lib';
import { TooLargeError } from '../../lib/errors';

// A client aimed at a closed port: a test that got past validation would fail with a network error,
// so a ValidationError here also shows that nothing was sent.
const offline = new DynamoDBClient({
  endpoint: 'http://127.0.0.1:9',
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  maxAttempts: 1,
});
const log = new EventLog({ tableName: 'events', client: offline });

describe('EventLog validation', () => {
  it('fails at construction with every problem in the options, each naming its value', () => {
    const build = () =>
      new EventLog({
        tableName: 'x',
        client: offline,
        settleWindowMs: 500,
        commitDeadlineMs: 800,
        streams: { 'bad#name': {}, orders: { writeShards: 0, retentionSeconds: 5 } },
      });
    expect(build).toThrow(ValidationError);
    expect(build).toThrow(/tableName must be .* \(given "x"\)/);
    expect(build).toThrow(/commitDeadlineMs \(800\) must be below settleWindowMs \(500\)/);
    expect(build).toThrow(/stream name "bad#name" is invalid/);
    expect(build).toThrow(/streams.orders.writeShards must be a whole number from 1 to 100 \(given 0\)/);
    expect(build).toThrow(
      /streams.orders.retentionSeconds must be a whole number of at least 60 \(given 5\)/,
    );
  });

  it.each([
    [
      'a stream name with a hash',
      { stream: 'orders#1', type: 'placed', data: {} },
      'invalid-name',
      /stream name "orders#1" is invalid/,
    ],
    [
      'an empty stream name',
      { stream: '', type: 'placed', data: {} },
      'invalid-name',
      /stream name "" is invalid/,
    ],
    [
      'a type with a slash',
      { stream: 'orders', type: 'a/b', data: {} },
      'invalid-name',
      /event type name "a\/b" is invalid/,
    ],
    [
      'a type of 129 characters',
      { stream: 'orders', type: 'a'.repeat(129), data: {} },
      'invalid-name',
      /event type name "a{129}" is invalid/,
    ],
    [
      'data that is undefined',
      { stream: 'orders', type: 'placed', data: undefined },
      'invalid-value',
      /must be a JSON value \(given undefined\)/,
    ],
    [
      'data with a bigint',
      { stream: 'orders', type: 'placed', data: { n: 1n } },
      'invalid-value',
      /data\.n is the bigint 1n, which JSON cannot hold/,
    ],
    [
      'an empty partition key',
      { stream: 'orders', type: 'placed', data: {}, partitionKey: '' },
      'invalid-value',
      /partitionKey must be/,
    ],
  ])('fails when an event has %s', async (_, event, code, message) => {
    await expect(log.commit(event as never)).rejects.toMatchObject({ constructor: ValidationError, code });
    await expect(log.commit(event as never)).rejects.toThrow(message);
  });

  it.each([
    ['NaN', { price: Number.NaN }, /data\.price is NaN, which JSON stores as null/],
    [
      'Infinity deep in an array',
      { lines: [{ qty: 1 }, { qty: Infinity }] },
      /data\.lines\[1\]\.qty is Infinity/,
    ],
    ['-Infinity as the whole data', -Infinity, /: data is -Infinity, which JSON stores as null/],
    ['a Map', { byId: new Map([['a', 1]]) }, /data\.byId is a Map, which JSON stores as \{\}/],
    [
      'a Set under an odd key',
      { 'tag set': new Set(['x']) },
      /data\["tag set"\] is a Set, which JSON stores as \{\}/,
    ],
    [
      'a function in an array',
      { steps: [() => 1] },
      /data\.steps\[0\] is a function, which JSON stores as null/,
    ],
    ['a bigint', { total: 10n }, /data\.total is the bigint 10n, which JSON cannot hold/],
  ] as [string, unknown, RegExp][])(
    'fails when data holds %s, naming its path, before anything is written',
    async (_, data, message) => {
      const commit = log.commit({ stream: 'orders', type: 'placed', data });
      await expect(commit).rejects.toThrow(ValidationError);
      await expect(log.commit({ stream: 'orders', type: 'placed', data })).rejects.toThrow(message);
      await expect(
        log.commitBatched([
          { stream: 'orders', type: 'placed', data: {} },
          { stream: 'orders', type: 'placed', data },
        ]),
      ).rejects.toThrow(/^event 1: data of a 'placed' event cannot be stored as given/);
    },
  );

  it('stores what JSON keeps as it is: dates, undefined properties, nulls, nested arrays', async () => {
    // Past validation, the offline client fails with a network error: the data was accepted.
    const data = { at: new Date(0), gone: undefined, none: null, grid: [[1, 2], [3]], text: 'NaN' };
    await expect(log.commit({ stream: 'orders', type: 'placed', data })).rejects.not.toThrow(ValidationError);
  });

  it('fails when an event is over the item limit, naming its size and the limit', async () => {
    const commit = log.commit({ stream: 'orders', type: 'big', data: 'x'.repeat(410_000) });
    await expect(commit).rejects.toMatchObject({ constructor: TooLargeError, what: 'event' });
    await expect(log.commit({ stream: 'orders', type: 'big', data: 'x'.repeat(410_000) })).rejects.toThrow(
      /is 410\d{3} bytes stored, over the limit of 409600 bytes/,
    );
  });

  it('fails when an atomic commit holds more than 100 events, and says what to do instead', async () => {
    const events = Array.from({ length: 101 }, (_, index) => ({
      stream: 'orders',
      type: 'placed',
      data: { index },
    }));
    await expect(log.commit(events)).rejects.toMatchObject({
      constructor: TooLargeError,
      what: 'transaction',
    });
    await expect(log.commit(events)).rejects.toThrow(
      /at most 100 events .* \(given 101 events, .*commitBatched/,
    );
  });

  it('names the position of the bad event in a many-event commit', async () => {
    const events = [
      { stream: 'orders', type: 'placed', data: {} },
      { stream: 'orders', type: 'bad type', data: {} },
    ];
    await expect(log.commit(events)).rejects.toThrow(/^event 1: event type name "bad type" is invalid/);
  });

  it.each([
    ['a limit of 0', { limit: 0 }, /limit must be a whole number from 1 to 10000 \(given 0\)/],
    ['a cursor that is no id', { cursor: 'abc' }, /event id must be .* \(given "abc"\)/],
    [
      'from after to',
      { from: new Date('2024-02-01T00:00:00Z'), to: new Date('2024-01-01T00:00:00Z') },
      /from lies after to/,
    ],
    ['an empty type filter', { types: [] }, /types must be a list of 1 to 100 event types/],
  ])('fails a range with %s', async (_, options, message) => {
    await expect(log.range('orders', options)).rejects.toThrow(message);
  });
});
