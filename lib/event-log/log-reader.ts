import { type AttributeValue, QueryCommand } from '@aws-sdk/client-dynamodb';
import { ValidationError } from '../errors';
import { assertEventId, eventIdToEpochMs, largestEventIdAt, runBounds } from '../time/event-id';
import {
  assertPosition,
  BEFORE_EVERY_EVENT,
  lastDeliveredBound,
  type Position,
  positionAfterEvent,
} from '../time/position';
import { assertTimeBucket, timeBucketOf } from '../time/time-bucket';
import {
  DEFAULT_RANGE_LIMIT,
  DEFAULT_READ_MAX_BYTES,
  DEFAULT_READ_MAX_ITEMS,
  DEFAULT_READ_MAX_QUERIES,
  MAX_RANGE_LIMIT,
} from './constants';
import type { PositionRange, ReadAfterOptions, ReadAfterPage } from './event-source';
import { checkBound, checkLimit, checkTypes, maxString, rangeInterval } from './inputs';
import {
  HIGHEST_KEY,
  holdsOnlyIdsWithin,
  isWithin,
  LOWEST_KEY,
  LogQueries,
  type ReadBudget,
} from './log-queries';
import type { LogContext } from './log-streams';

/** How far past this machine's clock `firstCommittedAfter` looks: further than any writer's ids lead. */
const COMMITTED_ID_LEAD_MS = 60_000;

import { assertStreamName } from './names';
import { decodeSegment, type StoredSegment, segmentEventCount } from './segment';
import type { ListTimeBucketsOptions, RangeOptions, RangePage, StoredEvent } from './types';

/**
 * The log's read path: checks what a read asks for, then reads it with the log's queries: one event,
 * a page of a range, a count, the time buckets, and the fetcher's pages after a position up to the
 * settled horizon. What the reads of `EventLog` are made of; it writes nothing but a stream's timing
 * when the stream has none yet.
 *
 * @example
 * ```ts
 * const reader = new LogReader({ client, tableName: 'sluice-events', clock: Date.now, serverClock: serverClockOf(client), streams });
 * const page = await reader.readAfter('orders', checkpoint, { limit: 500 });
 * ```
 */
export class LogReader {
  private readonly queries: LogQueries;

  constructor(private readonly context: LogContext) {
    this.queries = new LogQueries(context.client, context.tableName);
  }

  async get<TData = unknown>(stream: string, eventId: string): Promise<StoredEvent<TData> | undefined> {
    assertStreamName(stream);
    assertEventId(eventId);
    const bucket = timeBucketOf(eventIdToEpochMs(eventId));
    const entry = await this.queries.bucketEntry(stream, bucket);
    if (!entry) return undefined;
    // The item holding it is the first keyed at or after it within its run (see docs/storage-format.md).
    const found = await Promise.all(
      entry.shards.map(async (shard) => {
        const query = this.queries.shardQuery({
          stream,
          bucket,
          shard,
          interval: { low: eventId, high: eventId },
          reverse: false,
        });
        if (!query) return undefined;
        const output = await this.context.client.send(new QueryCommand({ ...query, Limit: 1 }));
        const item = output.Items?.[0];
        return item
          ? decodeSegment<TData>(stream, item).find(({ event }) => event.id === eventId)
          : undefined;
      }),
    );
    return found.find((decoded) => decoded !== undefined)?.event;
  }

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
          const query = this.queries.shardQuery({
            stream,
            bucket: entry.bucket,
            shard,
            interval,
            types,
            reverse: false,
          });
          if (!query) return 0;
          do {
            const output = await this.context.client.send(
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
      throw ValidationError.invalidRange('from lies after to', { from: options.from, to: options.to });
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

  async settledHorizon(stream: string): Promise<string> {
    assertStreamName(stream);
    const timing = await this.context.streams.timingOf(stream);
    const earliest = this.context.serverClock.bounds()?.earliest;
    const now =
      earliest === undefined
        ? this.context.clock()
        : Math.min(this.context.clock(), Math.floor(earliest + timing.readerMarginMs));
    return largestEventIdAt(now - timing.settleWindowMs);
  }

  async firstCommittedAfter(
    stream: string,
    position: Position,
    options: { readonly types?: readonly string[] } = {},
  ): Promise<string | undefined> {
    assertStreamName(stream);
    assertPosition(position);
    const types = checkTypes(options.types);
    const low = lastDeliveredBound(position);
    // Ids never lead DynamoDB's clock by much (writers hold them to it); a minute is far past any.
    const high = largestEventIdAt(this.context.clock() + COMMITTED_ID_LEAD_MS);
    if (low >= high) return undefined;
    const budget: ReadBudget = { queries: 0, items: 0 };
    for await (const step of this.queries.scanSteps(
      stream,
      low === BEFORE_EVERY_EVENT ? { high } : { low, lowExclusive: true, high },
      { types, reverse: false, pageSize: types ? 100 : 1 },
      budget,
    )) {
      if (step.event) return step.event.id;
      // Cut short among events of other types: one of those still to examine may match.
      if (budget.items >= DEFAULT_READ_MAX_ITEMS || budget.queries >= DEFAULT_READ_MAX_QUERIES)
        return step.id;
    }
    return undefined;
  }

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
    const aheadLimit = checkAheadLimit(options);
    const horizon = await this.settledHorizon(stream);
    const untilBound = options.until === undefined ? undefined : lastDeliveredBound(options.until);
    const high = untilBound !== undefined && untilBound < horizon ? untilBound : horizon;
    const low = lastDeliveredBound(position);
    // Past the horizon only for `ahead`: ids never lead DynamoDB's clock by much.
    const scanHigh = aheadLimit > 0 ? largestEventIdAt(this.context.clock() + COMMITTED_ID_LEAD_MS) : high;
    if (low >= scanHigh) return { events: [], position, caughtUp: true };

    const budget: ReadBudget = { queries: 0, items: 0 };
    const events: StoredEvent<TData>[] = [];
    const segments: StoredSegment[] = [];
    const ahead: StoredEvent<TData>[] = [];
    let bytes = 0;
    // Everything up to this id has been examined: returned, or not of the types asked for.
    let examined: string | undefined;
    let bounded = false;
    for await (const step of this.queries.scanSteps<TData>(
      stream,
      low === BEFORE_EVERY_EVENT ? { high: scanHigh } : { low, lowExclusive: true, high: scanHigh },
      { types, reverse: false, pageSize: limit + 1 },
      budget,
    )) {
      if (step.id > high) {
        // Past the horizon: the settled page is whole; what follows is only looked at.
        if (step.event) ahead.push(step.event);
        if (ahead.length >= aheadLimit || budget.queries >= maxQueries || budget.items >= maxItems) break;
        continue;
      }
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
      ...(caughtUp && aheadLimit > 0 ? { ahead } : {}),
    });
    if (bounded && examined !== undefined) return page(positionAfterEvent(examined), false);
    // A position already at or past the horizon (only with `ahead`) stays where it is.
    if (low >= high) return page(position, true);
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
      this.context.streams.settingsOf(stream).retentionSeconds ?? 0,
      indexedRetentionSeconds ?? 0,
    );
    const low = lastDeliveredBound(position);
    if (retention === 0 || low === BEFORE_EVERY_EVENT) return undefined;
    // An event expires at floor(idMs / 1000) + retention seconds; those at or before this id have.
    const expiredThroughMs = (Math.floor(this.context.clock() / 1000) - retention + 1) * 1000 - 1;
    if (expiredThroughMs < 0) return undefined;
    const expiredThrough = largestEventIdAt(expiredThroughMs);
    if (expiredThrough <= low) return undefined;
    return {
      from: position,
      to: positionAfterEvent(expiredThrough < high ? expiredThrough : high),
    };
  }
}

/** `ReadAfterOptions.ahead`, checked: a whole number, and not with `until`. */
function checkAheadLimit(options: ReadAfterOptions): number {
  if (options.ahead === undefined || options.ahead === 0) return 0;
  const ahead = checkLimit(options.ahead, MAX_RANGE_LIMIT);
  if (options.until !== undefined)
    throw ValidationError.invalidRange(
      'ahead reads past the settled horizon, which until bounds',
      options.ahead,
    );
  return ahead;
}
