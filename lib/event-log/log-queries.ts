import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { eventIdToEpochMs, largestEventIdAt, runBounds, smallestEventIdAt } from '../time/event-id';
import { TIME_BUCKET_MS, timeBucketOf, timeBucketStartMs } from '../time/time-bucket';
import { ATTRIBUTES } from './constants';
import { bucketIndexPartitionKey, eventPartitionKey } from './keys';
import { mergeSorted } from './merge';
import { decodeSegment, type StoredSegment, storedSegmentOf } from './segment';
import type { StoredEvent } from './types';

/** The smallest sort key: below every event id and time bucket. */
export const LOWEST_KEY = '0';
/** A sort key above every event id and time bucket. */
export const HIGHEST_KEY = 'g';
/**
 * Items the first query of a shard asks for, before the reader knows how many events an item holds:
 * ten segments of 100 events would already be 1,000 events.
 */
const FIRST_QUERY_ITEMS = 10;

/** Streams whose events-per-item figure this reader keeps, at most: a bound on its memory. */
const MAX_STREAMS_REMEMBERED = 1_000;

/** Inclusive or exclusive id bounds of a scan; a missing bound is open. */
export interface IdInterval {
  readonly low?: string;
  readonly lowExclusive?: boolean;
  readonly high?: string;
  readonly highExclusive?: boolean;
}

/** An hour of a stream in the bucket index: the write shards that hold its events. */
export interface BucketEntry {
  readonly bucket: string;
  readonly shards: number[];
  /** When TTL may delete the entry (epoch seconds): the end of its hour plus the stream's retention. */
  readonly expiresAt?: number;
}

/**
 * One step of a scan in id order: an event, or a marker saying that every item of its shard up to
 * `id` has been examined (a query page that ended, possibly on items of other types, or the end of
 * the shard's part of the interval).
 */
export interface ScanStep<TData> {
  readonly id: string;
  readonly event?: StoredEvent<TData>;
  /** The stored size of the event's item (0 for a marker). */
  readonly bytes: number;
  /** On the last event of a segment every event of which was yielded: the segment as stored. */
  readonly segment?: StoredSegment;
}

/** What a scan has spent: queries made and items examined. A read stops once a bound is reached. */
export interface ReadBudget {
  queries: number;
  items: number;
  /** The largest retention (seconds) the bucket index entries read so far carry. */
  retentionSeconds?: number;
}

/** What one shard query reads: an interval of a stream's bucket and write shard, perhaps only some types. */
export interface ShardScope {
  readonly stream: string;
  readonly bucket: string;
  readonly shard: number;
  readonly interval: IdInterval;
  readonly types?: readonly string[] | undefined;
  readonly reverse: boolean;
}

/**
 * The log's queries: the bucket index, and each shard's items of an interval of ids, merged into one
 * scan in id order. What the reads of `EventLog` are made of; it writes nothing.
 *
 * @example
 * ```ts
 * const queries = new LogQueries(client, 'sluice-events');
 * for await (const event of queries.scan('orders', { low: id, lowExclusive: true }, { reverse: false, pageSize: 100 })) console.log(event.id);
 * ```
 */
export class LogQueries {
  /**
   * Events per stored item in each stream's last scan, so that a scan asks its first query for
   * about as many items as its page needs: a tailing reader pages the same stream again and again.
   */
  private readonly eventsPerItem = new Map<string, number>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async *scan<TData>(
    stream: string,
    interval: IdInterval,
    options: { types?: readonly string[]; reverse: boolean; pageSize: number },
  ): AsyncGenerator<StoredEvent<TData>> {
    for await (const step of this.scanSteps<TData>(stream, interval, options))
      if (step.event) yield step.event;
  }

  /** Every event of an interval in id order (or reverse), with a progress marker after each query. */
  async *scanSteps<TData>(
    stream: string,
    interval: IdInterval,
    options: { types?: readonly string[] | undefined; reverse: boolean; pageSize: number },
    budget: ReadBudget = { queries: 0, items: 0 },
  ): AsyncGenerator<ScanStep<TData>> {
    for await (const entry of this.bucketEntries(stream, interval, options.reverse, budget)) {
      const perShardPage = Math.min(
        1000,
        Math.max(10, Math.ceil(options.pageSize / entry.shards.length) + 1),
      );
      const bucketInterval = clipToBucket(interval, entry.bucket);
      const sources = entry.shards.map((shard) =>
        this.queryShard<TData>(
          {
            stream,
            bucket: entry.bucket,
            shard,
            interval: bucketInterval,
            types: options.types,
            reverse: options.reverse,
          },
          perShardPage,
          budget,
        ),
      );
      yield* mergeSorted(sources, (step) => step.id, options.reverse);
    }
  }

  async *queryShard<TData>(
    scope: ShardScope,
    pageSize: number,
    budget: ReadBudget,
  ): AsyncGenerator<ScanStep<TData>> {
    const { stream, interval, types, reverse } = scope;
    let startKey: Record<string, AttributeValue> | undefined;
    // Items hold many events each: ask for about as many items as the events still wanted need, as
    // the items read so far suggest, so that a page does not read far past what it returns.
    let eventsWanted = pageSize;
    let itemsSeen = 0;
    let eventsSeen = 0;
    const query = this.shardQuery(scope);
    if (query === undefined) return;
    const known = this.eventsPerItem.get(stream);
    do {
      budget.queries += 1;
      const limit =
        itemsSeen === 0
          ? Math.min(
              pageSize,
              known === undefined ? FIRST_QUERY_ITEMS : Math.max(1, Math.ceil(pageSize / known)),
            )
          : Math.min(
              pageSize,
              Math.max(2, Math.ceil(eventsWanted / Math.max(1, eventsSeen / itemsSeen)) + 1),
            );
      const output = await this.client.send(
        new QueryCommand({ ...query, Limit: limit, ExclusiveStartKey: startKey }),
      );
      budget.items += output.ScannedCount ?? 0;
      for (const item of output.Items ?? []) {
        const decoded = decodeSegment<TData>(stream, item);
        itemsSeen += 1;
        eventsSeen += decoded.length;
        // Here, not after the query: a page that is full stops the scan within an item.
        this.rememberEventsPerItem(stream, eventsSeen / itemsSeen);
        const wanted = decoded.filter(
          ({ event }) => isWithin(event.id, interval) && (!types || types.includes(event.type)),
        );
        // A segment read whole can be forwarded as it is stored.
        const whole = !reverse && wanted.length === decoded.length ? storedSegmentOf(item) : undefined;
        for (const [index, { event, bytes }] of (reverse ? wanted.reverse() : wanted).entries()) {
          eventsWanted = Math.max(1, eventsWanted - 1);
          yield {
            id: event.id,
            event,
            bytes,
            ...(whole && index === wanted.length - 1 ? { segment: whole } : {}),
          };
        }
      }
      startKey = output.LastEvaluatedKey;
      // The query stopped at its limit, perhaps on items of other types: everything up to its last
      // item has been examined (runs do not interleave, so no unread item holds an id before it).
      const lastKey = startKey?.[ATTRIBUTES.sortKey]?.S;
      if (lastKey !== undefined) yield { id: reverse ? runBounds(lastKey).first : lastKey, bytes: 0 };
    } while (startKey);
    // The shard's part of the interval is done; `clipToBucket` bounds it within the bucket.
    const end = reverse ? interval.low : interval.high;
    if (end !== undefined) yield { id: end, bytes: 0 };
  }

  private rememberEventsPerItem(stream: string, eventsPerItem: number): void {
    if (!this.eventsPerItem.has(stream) && this.eventsPerItem.size >= MAX_STREAMS_REMEMBERED)
      this.eventsPerItem.clear();
    this.eventsPerItem.set(stream, eventsPerItem);
  }

  /**
   * The query for the items of one shard that may hold events of an interval: those keyed (by their
   * last id) from the interval's low end up to the end of the run its high end falls in, since an item
   * holding ids on both sides of the high end is keyed after it. `undefined` when no item can.
   */
  shardQuery({ stream, bucket, shard, interval, types, reverse }: ShardScope): QueryCommandInput | undefined {
    const low =
      interval.low === undefined
        ? LOWEST_KEY
        : // The key right after the id itself: an item keyed by it holds nothing after it.
          interval.lowExclusive
          ? `${interval.low}0`
          : interval.low;
    const high = interval.high === undefined ? HIGHEST_KEY : runBounds(interval.high).last;
    if (low > high) return undefined;
    const typeNames = Object.fromEntries((types ?? []).map((type, index) => [`#type${index}`, type]));
    const typeValues = Object.fromEntries((types ?? []).map((type, index) => [`:type${index}`, { S: type }]));
    // A segment holds a type when its counts name it; an item from before segments, by its type.
    const typeFilter = types
      ? [
          ...Object.keys(typeNames).map((name) => `attribute_exists(#counts.${name})`),
          `#type IN (${Object.keys(typeValues).join(', ')})`,
        ].join(' OR ')
      : undefined;
    return {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
      ExpressionAttributeNames: {
        '#pk': ATTRIBUTES.partitionKey,
        '#sk': ATTRIBUTES.sortKey,
        ...(types ? { '#type': ATTRIBUTES.type, '#counts': ATTRIBUTES.counts, ...typeNames } : {}),
      },
      ExpressionAttributeValues: {
        ':pk': { S: eventPartitionKey(stream, bucket, shard) },
        ':low': { S: low },
        ':high': { S: high },
        ...typeValues,
      },
      ...(typeFilter ? { FilterExpression: typeFilter } : {}),
      ScanIndexForward: !reverse,
      ConsistentRead: true,
    };
  }

  bucketEntries(
    stream: string,
    interval: IdInterval,
    reverse: boolean,
    budget?: ReadBudget,
  ): AsyncGenerator<BucketEntry> {
    const low = interval.low === undefined ? LOWEST_KEY : timeBucketOf(eventIdToEpochMs(interval.low));
    const high = interval.high === undefined ? HIGHEST_KEY : timeBucketOf(eventIdToEpochMs(interval.high));
    return this.bucketIndexQuery(stream, low, high, reverse, budget);
  }

  async *bucketIndexQuery(
    stream: string,
    low: string,
    high: string,
    reverse: boolean,
    budget?: ReadBudget,
  ): AsyncGenerator<BucketEntry> {
    if (low > high) return;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      if (budget) budget.queries += 1;
      const output = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
          ExpressionAttributeNames: { '#pk': ATTRIBUTES.partitionKey, '#sk': ATTRIBUTES.sortKey },
          ExpressionAttributeValues: {
            ':pk': { S: bucketIndexPartitionKey(stream) },
            ':low': { S: low },
            ':high': { S: high },
          },
          ScanIndexForward: !reverse,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      const entries = (output.Items ?? []).map(toBucketEntry);
      // Every entry of the page, not only those read before the scan stops, tells the retention.
      if (budget) {
        for (const entry of entries) {
          if (entry.expiresAt === undefined) continue;
          const retention = entry.expiresAt - timeBucketStartMs(entry.bucket) / 1000 - TIME_BUCKET_MS / 1000;
          budget.retentionSeconds = Math.max(budget.retentionSeconds ?? 0, retention);
        }
      }
      yield* entries;
      startKey = output.LastEvaluatedKey;
    } while (startKey);
  }

  async bucketEntry(stream: string, bucket: string): Promise<BucketEntry | undefined> {
    const output = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: {
          [ATTRIBUTES.partitionKey]: { S: bucketIndexPartitionKey(stream) },
          [ATTRIBUTES.sortKey]: { S: bucket },
        },
        ConsistentRead: true,
      }),
    );
    return output.Item ? toBucketEntry(output.Item) : undefined;
  }
}

export function toBucketEntry(item: Record<string, AttributeValue>): BucketEntry {
  const shards = (item[ATTRIBUTES.shards]?.NS ?? ['0']).map(Number).sort((a, b) => a - b);
  const expiresAt = item[ATTRIBUTES.expiresAt]?.N;
  return {
    bucket: item[ATTRIBUTES.sortKey]?.S as string,
    shards,
    ...(expiresAt === undefined ? {} : { expiresAt: Number(expiresAt) }),
  };
}

/**
 * The part of an interval inside one bucket, so that a scan's end-of-shard marker names the bucket's
 * last possible id when the interval runs on past it.
 */
export function clipToBucket(interval: IdInterval, bucket: string): IdInterval {
  const first = smallestEventIdAt(timeBucketStartMs(bucket));
  const last = largestEventIdAt(timeBucketStartMs(bucket) + TIME_BUCKET_MS - 1);
  return {
    ...(interval.low !== undefined && interval.low >= first
      ? { low: interval.low, ...(interval.lowExclusive ? { lowExclusive: true } : {}) }
      : { low: first }),
    ...(interval.high !== undefined && interval.high <= last
      ? { high: interval.high, ...(interval.highExclusive ? { highExclusive: true } : {}) }
      : { high: last }),
  };
}

/** Whether an id lies inside an interval. */
export function isWithin(id: string, interval: IdInterval): boolean {
  if (interval.low !== undefined && (id < interval.low || (interval.lowExclusive && id === interval.low)))
    return false;
  if (interval.high !== undefined && (id > interval.high || (interval.highExclusive && id === interval.high)))
    return false;
  return true;
}

/** Whether every id the item's run can hold lies inside an interval, so that its counts can be used. */
export function holdsOnlyIdsWithin(item: Record<string, AttributeValue>, interval: IdInterval): boolean {
  const key = item[ATTRIBUTES.sortKey]?.S as string;
  const { first, last } = runBounds(key);
  return isWithin(first, interval) && isWithin(last < key ? key : last, interval) && isWithin(key, interval);
}
