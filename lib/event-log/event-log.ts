import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BatchCommitError,
  type BatchCommitOutcome,
  CommitError,
  CommitOutcomeUnknownError,
  describe,
  EventTooLargeError,
  InvalidRangeError,
  SluiceError,
  TransactionTooLargeError,
  ValidationError,
} from '../errors';
import {
  assertEventId,
  EventIdGenerator,
  eventIdToEpochMs,
  largestEventIdAt,
  MAX_RUN_LENGTH,
  runBounds,
  runIds,
} from '../time/event-id';
import {
  assertPosition,
  BEFORE_EVERY_EVENT,
  lastDeliveredBound,
  type Position,
  positionAfterEvent,
} from '../time/position';
import { type ServerClock, serverClockOf } from '../time/server-clock';
import {
  assertTimeBucket,
  type Instant,
  TIME_BUCKET_MS,
  timeBucketOf,
  timeBucketStartMs,
} from '../time/time-bucket';
import {
  commitFailure,
  errorName,
  eventIdsInInputOrder,
  isConclusiveRefusal,
  isOwnItem,
  type PreparedSegment,
  type SegmentPiece,
} from './commit-outcome';
import {
  ATTRIBUTES,
  DEFAULT_RANGE_LIMIT,
  DEFAULT_READ_MAX_BYTES,
  DEFAULT_READ_MAX_ITEMS,
  DEFAULT_READ_MAX_QUERIES,
  MAX_ITEM_BYTES,
  MAX_RANGE_LIMIT,
  MAX_TRANSACTION_BYTES,
  MAX_TRANSACTION_ITEMS,
} from './constants';
import type { EventSource, PositionRange, ReadAfterOptions, ReadAfterPage } from './event-source';
import {
  checkBound,
  checkLimit,
  checkTypes,
  declaredTimingOf,
  maxString,
  rangeInterval,
  type SerializedEvent,
  serializeEvent,
  validateEventLogOptions,
} from './inputs';
import { itemSizeBytes } from './item-size';
import { bucketIndexPartitionKey, chooseShard, eventPartitionKey } from './keys';
import {
  HIGHEST_KEY,
  holdsOnlyIdsWithin,
  isWithin,
  LOWEST_KEY,
  LogQueries,
  type ReadBudget,
} from './log-queries';
import { LogStreams } from './log-streams';
import { assertStreamName } from './names';
import {
  decodeSegment,
  encodeSegment,
  type SegmentEntry,
  type StoredSegment,
  segmentEventCount,
  segmentItem,
} from './segment';
import { resolveStreamTiming, type StreamTiming } from './stream-timing';
import type {
  EventInput,
  EventLogOptions,
  ListTimeBucketsOptions,
  RangeOptions,
  RangePage,
  StoredEvent,
} from './types';

const MAX_ID_ATTEMPTS = 3;

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
  private readonly ids: EventIdGenerator;
  private readonly serverClock: ServerClock;
  /** Ids are not taken below this (DynamoDB's clock, less the writer's margin); set before each commit. */
  private idFloorMs = Number.NEGATIVE_INFINITY;
  private readonly indexedShards = new Set<string>();
  private roundRobin = 0;

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
    // Ids never trail DynamoDB's clock by more than the writer's margin, whatever this machine's clock says.
    this.ids =
      options.idGenerator ?? new EventIdGenerator({ now: () => Math.max(this.clock(), this.idFloorMs) });
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
      const [id] = await this.commitAtomically([serializeEvent(eventOrEvents as EventInput)]);
      return id as string;
    }
    const events = eventOrEvents as readonly EventInput[];
    if (events.length === 0) return [];
    const serialized = events.map((event, index) => serializeEvent(event, index));
    const sizeBytes = serialized.reduce((sum, event) => sum + Buffer.byteLength(event.json) + 200, 0);
    if (serialized.length > MAX_TRANSACTION_ITEMS || sizeBytes > MAX_TRANSACTION_BYTES) {
      throw new TransactionTooLargeError({
        eventCount: serialized.length,
        sizeBytes,
        maxEvents: MAX_TRANSACTION_ITEMS,
        maxBytes: MAX_TRANSACTION_BYTES,
      });
    }
    return this.commitAtomically(serialized);
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
    const sizeBytes = serialized.reduce((sum, event) => sum + Buffer.byteLength(event.json) + 200, 0);
    if (serialized.length + alsoWrite.length > MAX_TRANSACTION_ITEMS || sizeBytes > MAX_TRANSACTION_BYTES) {
      throw new TransactionTooLargeError({
        eventCount: serialized.length + alsoWrite.length,
        sizeBytes,
        maxEvents: MAX_TRANSACTION_ITEMS,
        maxBytes: MAX_TRANSACTION_BYTES,
      });
    }
    return this.commitAtomically(serialized, alsoWrite);
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
    const outcomes: BatchCommitOutcome[] = serialized.map(() => ({ status: 'not-attempted' }));
    let next = 0;
    let firstFailure: unknown;
    const worker = async () => {
      while (next < serialized.length && firstFailure === undefined) {
        const index = next;
        next += 1;
        try {
          const [id] = await this.commitAtomically([serialized[index] as SerializedEvent]);
          outcomes[index] = { status: 'committed', id: id as string };
        } catch (error) {
          firstFailure ??= error;
          outcomes[index] =
            error instanceof CommitOutcomeUnknownError
              ? { status: 'unknown', id: error.eventIds[0] as string, error }
              : { status: 'failed', error: error as Error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, serialized.length) }, worker));
    if (firstFailure !== undefined) throw new BatchCommitError(outcomes, { cause: firstFailure });
    return outcomes.map((outcome) => (outcome as { id: string }).id);
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

  private async commitAtomically(
    serialized: readonly SerializedEvent[],
    alsoWrite: readonly TransactWriteItem[] = [],
  ): Promise<string[]> {
    for (const event of serialized) this.checkSize(event);
    // The strictest timing of the streams written: the shortest deadline, the smallest margin.
    const timings = await this.commitTimings(serialized);
    const deadlineMs = Math.min(...timings.map((timing) => timing.commitDeadlineMs));
    const writerMarginMs = Math.min(...timings.map((timing) => timing.writerMarginMs));
    const pieces = this.segmentPieces(serialized);
    for (let attempt = 1; ; attempt += 1) {
      const assignedAtMs = this.clock();
      const latest = this.serverClock.bounds()?.latest;
      this.idFloorMs = latest === undefined ? Number.NEGATIVE_INFINITY : Math.ceil(latest - writerMarginMs);
      const prepared = pieces.map((piece) => this.prepare(piece));
      await this.ensureIndexed(prepared);
      const remainingMs = deadlineMs - (this.clock() - assignedAtMs);
      // Ids that went stale while the index was written are replaced: nothing was written under them.
      if (remainingMs < deadlineMs / 2) {
        if (attempt < MAX_ID_ATTEMPTS) continue;
        throw new CommitError(
          `could not commit within the commit deadline of ${deadlineMs} ms: writing the bucket index took too long; nothing was written`,
          { eventIds: eventIdsInInputOrder(prepared), reasons: serialized.map(() => 'None') },
        );
      }
      await this.write(prepared, remainingMs, assignedAtMs, deadlineMs, alsoWrite);
      return eventIdsInInputOrder(prepared);
    }
  }

  /** The timing of every stream a commit writes to; nothing is written when one cannot be had. */
  private async commitTimings(serialized: readonly SerializedEvent[]): Promise<StreamTiming[]> {
    const streams = [...new Set(serialized.map((event) => event.input.stream))];
    try {
      return await Promise.all(streams.map((stream) => this.streams.timingOf(stream)));
    } catch (error) {
      if (error instanceof SluiceError) throw error;
      const awsName = errorName(error);
      const reason =
        awsName === 'ResourceNotFoundException'
          ? `the event log table '${this.tableName}' does not exist (${(error as Error).message})`
          : `the timing of stream ${streams.map((stream) => `'${stream}'`).join(', ')} could not be read: ${awsName}: ${(error as Error).message}`;
      throw new CommitError(
        `${reason}; nothing was written`,
        { eventIds: [], reasons: serialized.map(() => awsName) },
        { cause: error },
      );
    }
  }

  /**
   * Splits a commit into the segments it is stored as: each run of consecutive events of one stream,
   * in one write shard, compressed; split further only where one item would pass DynamoDB's limit.
   * Segments take their ids in input order, so a commit's ids increase in the order it was given.
   */
  private segmentPieces(serialized: readonly SerializedEvent[]): SegmentPiece[] {
    const runs: number[][] = [];
    serialized.forEach((event, index) => {
      const run = runs.at(-1);
      const previous = run === undefined ? undefined : serialized[run[0] as number];
      if (run && previous?.input.stream === event.input.stream) run.push(index);
      else runs.push([index]);
    });
    const pieces: SegmentPiece[] = [];
    for (const run of runs) {
      const first = serialized[run[0] as number] as SerializedEvent;
      const stream = first.input.stream;
      const writeShards = this.streams.settingsOf(stream).writeShards ?? 1;
      this.roundRobin = (this.roundRobin + 1) % 1_000_000;
      const shard = chooseShard(writeShards, first.input.partitionKey, this.roundRobin);
      const widestKey = eventPartitionKey(stream, timeBucketOf(0), writeShards - 1);
      const split = (part: readonly number[]): void => {
        const entries = part.map((index) => segmentEntryOf(serialized[index] as SerializedEvent));
        const encoded = encodeSegment(entries);
        const widestIds = Array.from({ length: part.length }, () => largestEventIdAt(0));
        const sizeBytes = itemSizeBytes(segmentItem(widestKey, widestIds, entries, encoded, 0));
        if ((sizeBytes > MAX_ITEM_BYTES || part.length > MAX_RUN_LENGTH) && part.length > 1) {
          const half = Math.ceil(part.length / 2);
          split(part.slice(0, half));
          split(part.slice(half));
          return;
        }
        pieces.push({ stream, shard, indexes: part, entries, encoded });
      };
      split(run);
    }
    return pieces;
  }

  /** Gives a segment its ids (one run, so its events sort together) and its item. */
  private prepare(piece: SegmentPiece): PreparedSegment {
    const ids = runIds(this.ids.next(), piece.indexes.length);
    const idMs = eventIdToEpochMs(ids[0] as string);
    const bucket = timeBucketOf(idMs);
    const retention = this.streams.settingsOf(piece.stream).retentionSeconds;
    const expiresAt = retention === undefined ? undefined : Math.floor(idMs / 1000) + retention;
    const partitionKey = eventPartitionKey(piece.stream, bucket, piece.shard);
    return {
      ...piece,
      ids,
      bucket,
      item: segmentItem(partitionKey, ids, piece.entries, piece.encoded, expiresAt),
    };
  }

  /** Throws `EventTooLargeError` before anything is sent when an event would be over the item limit. */
  private checkSize(event: SerializedEvent): void {
    const { input, json } = event;
    const writeShards = this.streams.settingsOf(input.stream).writeShards ?? 1;
    // As an item of its own, uncompressed, with the widest key it can get: it then fits in any
    // segment, and in a message to a queue.
    const item: Record<string, AttributeValue> = {
      [ATTRIBUTES.partitionKey]: { S: eventPartitionKey(input.stream, timeBucketOf(0), writeShards - 1) },
      [ATTRIBUTES.sortKey]: { S: largestEventIdAt(0) },
      [ATTRIBUTES.type]: { S: input.type },
      [ATTRIBUTES.data]: { S: json },
    };
    const retention = this.streams.settingsOf(input.stream).retentionSeconds;
    if (retention !== undefined) {
      item[ATTRIBUTES.expiresAt] = { N: String(Math.floor(Math.max(0, this.clock()) / 1000) + retention) };
    }
    if (input.partitionKey !== undefined) item[ATTRIBUTES.eventPartitionKey] = { S: input.partitionKey };
    const sizeBytes = itemSizeBytes(item);
    if (sizeBytes > MAX_ITEM_BYTES) {
      throw new EventTooLargeError({
        stream: input.stream,
        type: input.type,
        sizeBytes,
        limitBytes: MAX_ITEM_BYTES,
      });
    }
  }

  /**
   * Records each (stream, hour, shard) in the bucket index before any event is written there. The
   * entry's expiry only ever grows: writers with different retentions index the same hour, and the
   * entry must outlive every event it leads to (a writer that keeps events for ever removes it).
   */
  private async ensureIndexed(prepared: readonly PreparedSegment[]): Promise<void> {
    const missing = new Map<string, PreparedSegment>();
    for (const event of prepared) {
      const key = `${event.stream}#${event.bucket}#${event.shard}`;
      if (!this.indexedShards.has(key)) missing.set(key, event);
    }
    await Promise.all(
      [...missing].map(async ([key, event]) => {
        const retention = this.streams.settingsOf(event.stream).retentionSeconds;
        const bucketEndsAt = Math.floor((timeBucketStartMs(event.bucket) + TIME_BUCKET_MS) / 1000);
        const index = (expiry: 'extend' | 'keep' | 'remove') =>
          this.client.send(
            new UpdateItemCommand({
              TableName: this.tableName,
              Key: {
                [ATTRIBUTES.partitionKey]: { S: bucketIndexPartitionKey(event.stream) },
                [ATTRIBUTES.sortKey]: { S: event.bucket },
              },
              UpdateExpression: {
                extend: 'SET #expiresAt = :expiresAt ADD #shards :shard',
                keep: 'ADD #shards :shard',
                remove: 'REMOVE #expiresAt ADD #shards :shard',
              }[expiry],
              ExpressionAttributeNames: {
                '#shards': ATTRIBUTES.shards,
                ...(expiry === 'keep' ? {} : { '#expiresAt': ATTRIBUTES.expiresAt }),
                ...(expiry === 'extend' ? { '#pk': ATTRIBUTES.partitionKey } : {}),
              },
              ExpressionAttributeValues: {
                ':shard': { NS: [String(event.shard)] },
                ...(expiry === 'extend'
                  ? { ':expiresAt': { N: String(bucketEndsAt + (retention ?? 0)) } }
                  : {}),
              },
              // A missing expiry on an existing entry means "kept for ever", which a later one must not shorten.
              ...(expiry === 'extend'
                ? { ConditionExpression: 'attribute_not_exists(#pk) OR #expiresAt < :expiresAt' }
                : {}),
            }),
          );
        try {
          await index(retention === undefined ? 'remove' : 'extend').catch((error: unknown) => {
            if (error instanceof ConditionalCheckFailedException) return index('keep');
            throw error;
          });
        } catch (error) {
          throw commitFailure(error, prepared, this.tableName);
        }
        this.indexedShards.add(key);
      }),
    );
  }

  private async write(
    prepared: readonly PreparedSegment[],
    remainingMs: number,
    assignedAtMs: number,
    deadlineMs: number,
    alsoWrite: readonly TransactWriteItem[],
  ): Promise<void> {
    const abortSignal = AbortSignal.timeout(Math.max(1, Math.floor(remainingMs)));
    const notThere = `attribute_not_exists(${ATTRIBUTES.partitionKey})`;
    const single = prepared.length === 1 && alsoWrite.length === 0 ? prepared[0] : undefined;
    // Both forms are safe to send again: the SDK's retry of a put whose first response was lost finds
    // its own item (returned with the failed condition), and a transaction carries one request token
    // for all its attempts, which DynamoDB answers as the first attempt did.
    const command = single
      ? new PutItemCommand({
          TableName: this.tableName,
          Item: single.item,
          ConditionExpression: notThere,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        })
      : new TransactWriteItemsCommand({
          ClientRequestToken: randomUUID(),
          TransactItems: [
            ...alsoWrite,
            ...prepared.map((segment) => ({
              Put: { TableName: this.tableName, Item: segment.item, ConditionExpression: notThere },
            })),
          ],
        });
    try {
      await this.client.send(command as PutItemCommand, { abortSignal });
    } catch (error) {
      if (single && isOwnItem(error, single.item)) return; // an earlier attempt of this very put landed
      const eventIds = eventIdsInInputOrder(prepared);
      if (abortSignal.aborted) {
        throw new CommitOutcomeUnknownError(
          { eventIds, elapsedMs: this.clock() - assignedAtMs, deadlineMs },
          { cause: error },
        );
      }
      if (!isConclusiveRefusal(error)) {
        throw new CommitOutcomeUnknownError(
          {
            eventIds,
            elapsedMs: this.clock() - assignedAtMs,
            deadlineMs,
            reason: `failed with ${errorName(error)} (${(error as Error).message}), which does not say whether DynamoDB applied it`,
          },
          { cause: error },
        );
      }
      throw commitFailure(error, prepared, this.tableName, alsoWrite.length);
    }
  }
}

export { validateEventLogOptions } from './inputs';

/** An event as a segment stores it: its type, its data's JSON and its partition key. */
function segmentEntryOf(event: SerializedEvent): SegmentEntry {
  const { type, partitionKey } = event.input;
  return partitionKey === undefined ? { type, json: event.json } : { type, json: event.json, partitionKey };
}
