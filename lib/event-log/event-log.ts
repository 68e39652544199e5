import { describe, ValidationError } from '../errors';
import type { Position } from '../time/position';
import { type Instant, timeBucketOf } from '../time/time-bucket';
import { EventLogWriter } from './event-log-writer';
import type { EventSource, ReadAfterOptions, ReadAfterPage } from './event-source';
import { LogReader } from './log-reader';
import type { EventLogOptions, ListTimeBucketsOptions, RangeOptions, RangePage, StoredEvent } from './types';

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
export class EventLog extends EventLogWriter implements EventSource {
  private readonly reader: LogReader;

  constructor(options: EventLogOptions) {
    super(options);
    this.reader = new LogReader(this.context);
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
   * The id of the first event committed after `position` (of `types`, when given), settled or not,
   * or `undefined` when there is none: what a tailing reader about to stop looks for, so as not to
   * leave behind an event that is still settling. Reads are strongly consistent. A look cut short
   * among events of other types (after 5,000 items or 50 queries) answers with the last id it
   * examined: one of those after it may still match.
   *
   * @example
   * ```ts
   * const pending = await log.firstCommittedAfter('orders', checkpoint, { types: ['order.paid'] });
   * ```
   */
  firstCommittedAfter(
    stream: string,
    position: Position,
    options: { readonly types?: readonly string[] } = {},
  ): Promise<string | undefined> {
    return this.reader.firstCommittedAfter(stream, position, options);
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
