import { DynamoDBClient, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { describe, ValidationError } from '../errors';
import type { Position } from '../time/position';
import { serverClockOf } from '../time/server-clock';
import { type Instant, timeBucketOf } from '../time/time-bucket';
import type { EventSource, ReadAfterOptions, ReadAfterPage } from './event-source';
import { declaredTimingOf, serializeEvent, validateEventLogOptions } from './inputs';
import { LogReader } from './log-reader';
import { type LogContext, LogStreams } from './log-streams';
import { checkTransactionSize, LogWriter } from './log-writer';
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
  private readonly writer: LogWriter;
  private readonly reader: LogReader;

  constructor(options: EventLogOptions) {
    const problems = validateEventLogOptions(options);
    if (problems.length > 0)
      throw new ValidationError(`invalid EventLog options: ${problems.join('; ')}`, options);
    this.tableName = options.tableName;
    const client = options.client ?? new DynamoDBClient({});
    const declaredTiming = declaredTimingOf(options);
    const streams = new LogStreams(
      client,
      this.tableName,
      options.streams ?? {},
      options.defaultStreamSettings ?? {},
      declaredTiming,
    );
    const timing = resolveStreamTiming(declaredTiming);
    this.settleWindowMs = timing.settleWindowMs;
    this.commitDeadlineMs = timing.commitDeadlineMs;
    // One context for both paths: one clock, one timing per stream.
    const context: LogContext = {
      client,
      tableName: this.tableName,
      clock: options.clock ?? Date.now,
      serverClock: serverClockOf(client),
      streams,
    };
    this.writer = new LogWriter(context, options.idGenerator);
    this.reader = new LogReader(context);
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
  get<TData = unknown>(stream: string, eventId: string): Promise<StoredEvent<TData> | undefined> {
    return this.reader.get<TData>(stream, eventId);
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
  range<TData = unknown>(stream: string, options: RangeOptions = {}): Promise<RangePage<TData>> {
    return this.reader.range<TData>(stream, options);
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
  events<TData = unknown>(
    stream: string,
    options: Omit<RangeOptions, 'limit' | 'cursor'> = {},
  ): AsyncGenerator<StoredEvent<TData>> {
    return this.reader.events<TData>(stream, options);
  }

  /**
   * How many events a range holds.
   *
   * @example
   * ```ts
   * await log.count('orders', { from: new Date('2024-05-01'), to: new Date('2024-05-02') });
   * ```
   */
  count(stream: string, options: Omit<RangeOptions, 'limit' | 'cursor' | 'reverse'> = {}): Promise<number> {
    return this.reader.count(stream, options);
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
  listTimeBuckets(
    stream: string,
    options: ListTimeBucketsOptions & { readonly after?: string } = {},
  ): Promise<string[]> {
    return this.reader.listTimeBuckets(stream, options);
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
  settledHorizon(stream: string): Promise<string> {
    return this.reader.settledHorizon(stream);
  }

  /**
   * Events after a position, in id order, up to the settled horizon: the fetcher's read.
   *
   * @example
   * ```ts
   * const page = await log.readAfter('orders', checkpoint, { limit: 500 });
   * ```
   */
  readAfter<TData = unknown>(
    stream: string,
    position: Position,
    options: ReadAfterOptions,
  ): Promise<ReadAfterPage<TData>> {
    return this.reader.readAfter<TData>(stream, position, options);
  }
}

export { validateEventLogOptions } from './inputs';
