import {
  type AttributeValue,
  DynamoDBClient,
  QueryCommand,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { describe, InvalidRangeError, ValidationError } from '../errors';
import { assertEventId, eventIdToEpochMs, largestEventIdAt, runBounds } from '../time/event-id';
import {
  assertPosition,
  BEFORE_EVERY_EVENT,
  lastDeliveredBound,
  type Position,
  positionAfterEvent,
} from '../time/position';
import { type ServerClock, serverClockOf } from '../time/server-clock';
import { assertTimeBucket, type Instant, timeBucketOf } from '../time/time-bucket';
import {
  DEFAULT_RANGE_LIMIT,
  DEFAULT_READ_MAX_BYTES,
  DEFAULT_READ_MAX_ITEMS,
  DEFAULT_READ_MAX_QUERIES,
  MAX_RANGE_LIMIT,
} from './constants';
import type { EventSource, PositionRange, ReadAfterOptions, ReadAfterPage } from './event-source';
import {
  checkBound,
  checkLimit,
  checkTypes,
  declaredTimingOf,
  maxString,
  rangeInterval,
  serializeEvent,
  validateEventLogOptions,
} from './inputs';
import {
  HIGHEST_KEY,
  holdsOnlyIdsWithin,
  isWithin,
  LOWEST_KEY,
  LogQueries,
  type ReadBudget,
} from './log-queries';
import { LogStreams } from './log-streams';
import { checkTransactionSize, LogWriter } from './log-writer';
import { assertStreamName } from './names';
import { decodeSegment, type StoredSegment, segmentEventCount } from './segment';
import { resolveStreamTiming } from './stream-timing';
import type {
  EventInput,
  EventLogOptions,
  ListTimeBucketsOptions,
  RangeOptions,
  RangePage,
  StoredEvent,
} from './types';

/**
 * The time-bucketed event log on DynamoDB: streams of time-ordered events, committed one at a time
 * or atomically many at once (across streams too), read by range, by page after a position, or
 * counted; with a bucket index for cheap hour look-ups, write shards for hot streams, TTL retention,
 * and a settle window that keeps tailing readers from skipping late commits.
 *
 * @example
 * ```ts
 * const log = new EventLog({ tableName: 'sluice-events', streams: { orders: { writeShards: 4 } } });
 * const id = await log.commit({ stream: 'orders', type: 'order.placed', data: { orderId: 'o-1' } });
 * const [a, b] = await log.commit([
 *   { stream: 'orders', type: 'order.paid', data: { orderId: 'o-1' } },
 *   { stream: 'ledger', type: 'entry.added', data: { amount: 42 } },
 * ]); // both land, or neither
 * const { events, cursor } = await log.range('orders', { from: new Date('2024-05-01T12:30:00Z'), limit: 50 });
 * ```
 */
export class EventLog implements EventSource {
  readonly tableName: string;
  readonly settleWindowMs: number;
  readonly commitDeadlineMs: number;
  private readonly client: DynamoDBClient;
  private readonly queries: LogQueries;
  private readonly streams: LogStreams;
  private readonly clock: () => number;
  private readonly writer: LogWriter;
  private readonly serverClock: ServerClock;

  constructor(options: EventLogOptions) {
    const problems = validateEventLogOptions(options);
    if (problems.length > 0)
      throw new ValidationError(`invalid EventLog options: ${problems.join('; ')}`, options);
    this.tableName = options.tableName;
    this.client = options.client ?? new DynamoDBClient({});
    this.queries = new LogQueries(this.client, this.tableName);
    const declaredTiming = declaredTimingOf(options);
    this.streams = new LogStreams(
      this.client,
      this.tableName,
      options.streams ?? {},
      options.defaultStreamSettings ?? {},
      declaredTiming,
    );
    const timing = resolveStreamTiming(declaredTiming);
    this.settleWindowMs = timing.settleWindowMs;
    this.commitDeadlineMs = timing.commitDeadlineMs;
    this.clock = options.clock ?? Date.now;
    this.serverClock = serverClockOf(this.client);
    this.writer = new LogWriter(
      {
        client: this.client,
        tableName: this.tableName,
        clock: this.clock,
        serverClock: this.serverClock,
        streams: this.streams,
      },
      options.idGenerator,
    );
  }

  /**
   * Commits one event and resolves to its id, or many events atomically (all land or none, across
   * streams too) and resolves to their ids in order. At most 100 events and 4 MB in one atomic commit.
   *
   * A retry the SDK makes after a lost response is recognised as the same commit: the event is stored
   * once, under the id this resolves to.
   *
   * @throws `ValidationError` (bad name, data, size) before anything is written; `CommitError` when
   * DynamoDB refused the commit (nothing was written); `CommitOutcomeUnknownError`, with the ids, when
   * the commit could not finish within `commitDeadlineMs` or failed without saying whether it was
   * applied: check the ids with {@link get}, and commit again only what is missing.
   *
   * @example
   * ```ts
   * const id = await log.commit({ stream: 'orders', type: 'order.placed', data: { orderId: 'o-1' } });
   * ```
   */
  commit<TData>(event: EventInput<TData>): Promise<string>;
  commit<TData>(events: readonly EventInput<TData>[]): Promise<string[]>;
  async commit<TData>(
    eventOrEvents: EventInput<TData> | readonly EventInput<TData>[],
  ): Promise<string | string[]> {
    if (!Array.isArray(eventOrEvents)) {
      const [id] = await this.writer.commit([serializeEvent(eventOrEvents as EventInput)]);
      return id as string;
    }
    const events = eventOrEvents as readonly EventInput[];
    if (events.length === 0) return [];
    const serialized = events.map((event, index) => serializeEvent(event, index));
    checkTransactionSize(serialized);
    return this.writer.commit(serialized);
  }

  /**
   * Commits events atomically together with other DynamoDB writes, in any table: all land or none.
   * This is how a worker acknowledges an event and commits what it produced in one step (PipeProc's
   * ackCommit). At most 100 writes in all.
   *
   * @throws `CommitError` naming the write at fault when DynamoDB cancels the transaction (a condition
   * on one of `alsoWrite` failed, for example); nothing was written.
   *
   * @example
   * ```ts
   * await log.commitWith([{ stream: 'invoices', type: 'invoice.created', data }], [
   *   { Put: { TableName: 'state', Item: marker, ConditionExpression: 'attribute_not_exists(pk)' } },
   * ]);
   * ```
   */
  async commitWith<TData>(
    events: readonly EventInput<TData>[],
    alsoWrite: readonly TransactWriteItem[],
  ): Promise<string[]> {
    if (events.length === 0) {
      throw new ValidationError(
        'commitWith() needs at least one event; write the other items directly',
        events,
      );
    }
    const serialized = events.map((event, index) => serializeEvent(event as EventInput, index));
    checkTransactionSize(serialized, alsoWrite.length);
    return this.writer.commit(serialized, alsoWrite);
  }

  /**
   * Commits any number of events without atomicity, `concurrency` at a time in input order, each on
   * its own, and resolves to the ids in input order. Every event is checked (names, JSON data) before
   * the first is written. When one fails, no further event is started; those in flight finish, and a
   * `BatchCommitError` says what became of each event: committed (with its id), failed, of unknown
   * outcome (with the id to check), or not attempted.
   * For atomic commits of up to 100 events use {@link commit}.
   *
   * @throws `ValidationError` before anything is written; `BatchCommitError` once anything was.
   *
   * @example
   * ```ts
   * const ids = await log.commitBatched(rowsFromCsv.map((row) => ({ stream: 'imports', type: 'row', data: row })));
   * ```
   */
  async commitBatched<TData>(
    events: readonly EventInput<TData>[],
    options: { concurrency?: number } = {},
  ): Promise<string[]> {
    const serialized = events.map((event, index) => serializeEvent(event as EventInput, index));
    const concurrency = options.concurrency ?? 16;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
      throw new ValidationError(
        `concurrency must be a whole number from 1 to 256 (given ${describe(concurrency)})`,
        concurrency,
      );
    }
    return this.writer.commitEach(serialized, concurrency);
  }

  /**
   * One event by id, or `undefined` if the stream has no such event.
   *
   * @example
   * ```ts
   * const event = await log.get('orders', id);
   * ```
   */
  async get<TData = unknown>(stream: string, eventId: string): Promise<StoredEvent<TData> | undefined> {
    assertStreamName(stream);
    assertEventId(eventId);
    const bucket = timeBucketOf(eventIdToEpochMs(eventId));
    const entry = await this.queries.bucketEntry(stream, bucket);
    if (!entry) return undefined;
    // The item holding it is the first keyed at or after it within its run (see docs/storage-format.md).
    const found = await Promise.all(
      entry.shards.map(async (shard) => {
        const query = this.queries.shardQuery(
          stream,
          bucket,
          shard,
          { low: eventId, high: eventId },
          undefined,
          false,
        );
        if (!query) return undefined;
        const output = await this.client.send(new QueryCommand({ ...query, Limit: 1 }));
        const item = output.Items?.[0];
        return item
          ? decodeSegment<TData>(stream, item).find(({ event }) => event.id === eventId)
          : undefined;
      }),
    );
    return found.find((decoded) => decoded !== undefined)?.event;
  }

  /**
   * Events of a stream in id (commit-time) order, one page at a time, across time buckets and shards.
   *
   * @example
   * ```ts
   * let page = await log.range('orders', { from: new Date('2024-05-01T12:30:00Z'), limit: 500 });
   * while (page.cursor) page = await log.range('orders', { from: ..., limit: 500, cursor: page.cursor });
   * ```
   */
  async range<TData = unknown>(stream: string, options: RangeOptions = {}): Promise<RangePage<TData>> {
    assertStreamName(stream);
    const limit = checkLimit(options.limit ?? DEFAULT_RANGE_LIMIT, MAX_RANGE_LIMIT);
    const types = checkTypes(options.types);
    const reverse = options.reverse ?? false;
    const interval = rangeInterval(options);
    const events: StoredEvent<TData>[] = [];
    for await (const event of this.queries.scan<TData>(stream, interval, {
      types,
      reverse,
      pageSize: limit + 1,
    })) {
      events.push(event);
      if (events.length === limit) break;
    }
    const last = events.at(-1);
    return events.length === limit && last ? { events, cursor: last.id } : { events };
  }

  /**
   * {@link range}, newest first.
   *
   * @example
   * ```ts
   * const { events: latestTen } = await log.revrange('orders', { limit: 10 });
   * ```
   */
  revrange<TData = unknown>(
    stream: string,
    options: Omit<RangeOptions, 'reverse'> = {},
  ): Promise<RangePage<TData>> {
    return this.range<TData>(stream, { ...options, reverse: true });
  }

  /**
   * Every event of a range, as an async iterable that reads page by page.
   *
   * @example
   * ```ts
   * for await (const event of log.events('orders', { types: ['order.placed'] })) console.log(event.id);
   * ```
   */
  async *events<TData = unknown>(
    stream: string,
    options: Omit<RangeOptions, 'limit' | 'cursor'> = {},
  ): AsyncGenerator<StoredEvent<TData>> {
    assertStreamName(stream);
    const types = checkTypes(options.types);
    yield* this.queries.scan<TData>(stream, rangeInterval(options), {
      types,
      reverse: options.reverse ?? false,
      pageSize: 1000,
    });
  }

  /**
   * How many events a range holds.
   *
   * @example
   * ```ts
   * await log.count('orders', { from: new Date('2024-05-01'), to: new Date('2024-05-02') });
   * ```
   */
  async count(
    stream: string,
    options: Omit<RangeOptions, 'limit' | 'cursor' | 'reverse'> = {},
  ): Promise<number> {
    assertStreamName(stream);
    const types = checkTypes(options.types);
    const interval = rangeInterval(options);
    let total = 0;
    for await (const entry of this.queries.bucketEntries(stream, interval, false)) {
      const counts = await Promise.all(
        entry.shards.map(async (shard) => {
          let count = 0;
          let startKey: Record<string, AttributeValue> | undefined;
          const query = this.queries.shardQuery(stream, entry.bucket, shard, interval, types, false);
          if (!query) return 0;
          do {
            const output = await this.client.send(
              new QueryCommand({ ...query, ExclusiveStartKey: startKey }),
            );
            for (const item of output.Items ?? []) {
              // A segment wholly inside the range is counted from its counts; one across an end is opened.
              count += holdsOnlyIdsWithin(item, interval)
                ? segmentEventCount(item, types)
                : decodeSegment(stream, item).filter(
                    ({ event }) => isWithin(event.id, interval) && (!types || types.includes(event.type)),
                  ).length;
            }
            startKey = output.LastEvaluatedKey;
          } while (startKey);
          return count;
        }),
      );
      total += counts.reduce((sum, count) => sum + count, 0);
    }
    return total;
  }

  /**
   * The stream's time buckets that hold events (the data pump's getTimeBuckets), from the bucket
   * index: one small query, no table scan.
   *
   * @example
   * ```ts
   * await log.listTimeBuckets('orders', { from: '20240501000000', to: '20240501230000' });
   * ```
   */
  async listTimeBuckets(
    stream: string,
    options: ListTimeBucketsOptions & { readonly after?: string } = {},
  ): Promise<string[]> {
    assertStreamName(stream);
    for (const bucket of [options.from, options.to, options.after])
      if (bucket !== undefined) assertTimeBucket(bucket);
    const limit =
      options.limit === undefined
        ? Number.POSITIVE_INFINITY
        : checkLimit(options.limit, Number.MAX_SAFE_INTEGER);
    const low = maxString(options.from, options.after);
    if (options.from !== undefined && options.to !== undefined && options.from > options.to) {
      throw new InvalidRangeError('from lies after to', { from: options.from, to: options.to });
    }
    const buckets: string[] = [];
    for await (const entry of this.queries.bucketIndexQuery(
      stream,
      low ?? LOWEST_KEY,
      options.to ?? HIGHEST_KEY,
      options.reverse ?? false,
    )) {
      if (options.after !== undefined && entry.bucket === options.after) continue;
      buckets.push(entry.bucket);
      if (buckets.length >= limit) break;
    }
    return buckets;
  }

  /**
   * The first time bucket holding events after `bucket` (the data pump's getNextTimeBucket).
   *
   * @example
   * ```ts
   * await log.nextTimeBucket('orders', '20240501120000'); // '20240501150000' if 13:00 and 14:00 were quiet
   * ```
   */
  async nextTimeBucket(stream: string, bucket: string): Promise<string | undefined> {
    const [next] = await this.listTimeBuckets(stream, { after: bucket, limit: 1 });
    return next;
  }

  /**
   * The time bucket holding events that is closest to an instant: the one holding it or the nearest
   * after it (`'after'`, the default), or the one holding it or the nearest before it (`'before'`).
   *
   * @example
   * ```ts
   * await log.closestTimeBucket('orders', new Date('2024-05-01T12:30:00Z'), 'before');
   * ```
   */
  async closestTimeBucket(
    stream: string,
    instant: Instant,
    direction: 'before' | 'after' = 'after',
  ): Promise<string | undefined> {
    if (direction !== 'before' && direction !== 'after') {
      throw new ValidationError(
        `direction must be 'before' or 'after' (given ${describe(direction)})`,
        direction,
      );
    }
    const bucket = timeBucketOf(instant);
    const [closest] =
      direction === 'after'
        ? await this.listTimeBuckets(stream, { from: bucket, limit: 1 })
        : await this.listTimeBuckets(stream, { to: bucket, limit: 1, reverse: true });
    return closest;
  }

  /**
   * The newest id of a stream that has settled: every event with an id at or below it that will ever
   * be committed already has been. Tailing readers read no further. It stands the stream's settle
   * window behind now, where now is this machine's clock, or DynamoDB's (as its responses tell it) if
   * that is behind: a clock that runs fast does not take a reader past events still landing.
   *
   * @example
   * ```ts
   * await log.settledHorizon('orders'); // largestEventIdAt(now - settleWindowMs)
   * ```
   */
  async settledHorizon(stream: string): Promise<string> {
    assertStreamName(stream);
    const timing = await this.streams.timingOf(stream);
    const earliest = this.serverClock.bounds()?.earliest;
    const now =
      earliest === undefined
        ? this.clock()
        : Math.min(this.clock(), Math.floor(earliest + timing.readerMarginMs));
    return largestEventIdAt(now - timing.settleWindowMs);
  }

  /**
   * Events after a position, in id order, up to the settled horizon: the fetcher's read.
   *
   * @example
   * ```ts
   * const page = await log.readAfter('orders', checkpoint, { limit: 500 });
   * ```
   */
  async readAfter<TData = unknown>(
    stream: string,
    position: Position,
    options: ReadAfterOptions,
  ): Promise<ReadAfterPage<TData>> {
    assertStreamName(stream);
    assertPosition(position);
    const limit = checkLimit(options.limit, MAX_RANGE_LIMIT);
    const types = checkTypes(options.types);
    const maxBytes = checkBound('maxBytes', options.maxBytes, DEFAULT_READ_MAX_BYTES);
    const maxItems = checkBound('maxItemsRead', options.maxItemsRead, DEFAULT_READ_MAX_ITEMS);
    const maxQueries = checkBound('maxQueries', options.maxQueries, DEFAULT_READ_MAX_QUERIES);
    if (options.until !== undefined) assertPosition(options.until);
    const horizon = await this.settledHorizon(stream);
    const untilBound = options.until === undefined ? undefined : lastDeliveredBound(options.until);
    const high = untilBound !== undefined && untilBound < horizon ? untilBound : horizon;
    const low = lastDeliveredBound(position);
    if (low >= high) return { events: [], position, caughtUp: true };

    const budget: ReadBudget = { queries: 0, items: 0 };
    const events: StoredEvent<TData>[] = [];
    const segments: StoredSegment[] = [];
    let bytes = 0;
    // Everything up to this id has been examined: returned, or not of the types asked for.
    let examined: string | undefined;
    let bounded = false;
    for await (const step of this.queries.scanSteps<TData>(
      stream,
      low === BEFORE_EVERY_EVENT ? { high } : { low, lowExclusive: true, high },
      { types, reverse: false, pageSize: limit + 1 },
      budget,
    )) {
      if (step.event) {
        if (events.length > 0 && bytes + step.bytes > maxBytes) {
          bounded = true;
          break;
        }
        events.push(step.event);
        bytes += step.bytes;
        const first = events.length - (step.segment?.count ?? 0);
        if (step.segment && events[first]?.id === runBounds(step.segment.lastId).first)
          segments.push(step.segment);
      }
      examined = step.id;
      if (
        events.length === limit ||
        bytes >= maxBytes ||
        budget.queries >= maxQueries ||
        budget.items >= maxItems
      ) {
        bounded = true;
        break;
      }
    }
    const expired = this.expiredRange(stream, position, high, budget.retentionSeconds);
    const page = (at: Position, caughtUp: boolean): ReadAfterPage<TData> => ({
      events,
      position: at,
      caughtUp,
      ...(segments.length > 0 ? { segments } : {}),
      ...(expired ? { expired } : {}),
    });
    if (bounded && examined !== undefined) return page(positionAfterEvent(examined), false);
    return page(high === untilBound && options.until ? options.until : positionAfterEvent(high), true);
  }

  /**
   * The events after `position` (up to `high`) that had passed the stream's retention by now, when
   * there are any: the retention is the larger of this log's setting for the stream and the one the
   * bucket index entries read carry, so that a reader configured without it still sees it. Nothing
   * for a reader at the very beginning: "earliest" means the earliest event still kept.
   */
  private expiredRange(
    stream: string,
    position: Position,
    high: string,
    indexedRetentionSeconds: number | undefined,
  ): PositionRange | undefined {
    const retention = Math.max(
      this.streams.settingsOf(stream).retentionSeconds ?? 0,
      indexedRetentionSeconds ?? 0,
    );
    const low = lastDeliveredBound(position);
    if (retention === 0 || low === BEFORE_EVERY_EVENT) return undefined;
    // An event expires at floor(idMs / 1000) + retention seconds; those at or before this id have.
    const expiredThroughMs = (Math.floor(this.clock() / 1000) - retention + 1) * 1000 - 1;
    if (expiredThroughMs < 0) return undefined;
    const expiredThrough = largestEventIdAt(expiredThroughMs);
    if (expiredThrough <= low) return undefined;
    return {
      from: position,
      to: positionAfterEvent(expiredThrough < high ? expiredThrough : high),
    };
  }
}

export { validateEventLogOptions } from './inputs';
