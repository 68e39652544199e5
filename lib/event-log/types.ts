import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventIdGenerator } from '../time/event-id';
import type { Instant } from '../time/time-bucket';

/** An event to commit. */
export interface EventInput<TData = unknown> {
  /** The stream it goes to: 1 to 128 letters, digits, `.`, `_` or `-`. */
  readonly stream: string;
  /** Its type, by the same rule as stream names, such as `order.placed`. */
  readonly type: string;
  /** Any JSON value. */
  readonly data: TData;
  /** Events with the same key keep their order on FIFO pipelines and share a write shard. */
  readonly partitionKey?: string;
}

/** An event as the log stores it. */
export interface StoredEvent<TData = unknown> {
  /** Time-ordered: sorting ids sorts events by commit time. */
  readonly id: string;
  readonly stream: string;
  readonly type: string;
  /** The commit time, read from the id. */
  readonly time: Date;
  readonly data: TData;
  readonly partitionKey?: string;
}

/** Settings of one stream. */
export interface StreamSettings {
  /**
   * How many partitions one hour of the stream spreads its writes over. Raise it for streams that take
   * more than about 1,000 writes a second. Readers find the shards in use from the bucket index, so
   * it may be changed at any time.
   * @default 1
   */
  readonly writeShards?: number;
  /**
   * How long events are kept, in seconds, through DynamoDB TTL (which deletes expired items within a
   * few days of expiry). Leave it out to keep events for ever.
   * @default undefined (kept for ever)
   */
  readonly retentionSeconds?: number;
  /**
   * The stream's settle window, as for {@link EventLogOptions.settleWindowMs}, for this stream alone.
   * @default the EventLog's `settleWindowMs`
   */
  readonly settleWindowMs?: number;
  /**
   * The stream's commit deadline, as for {@link EventLogOptions.commitDeadlineMs}, for this stream alone.
   * @default the EventLog's `commitDeadlineMs`
   */
  readonly commitDeadlineMs?: number;
}

/** Options of an `EventLog`. */
export interface EventLogOptions {
  /** The DynamoDB table (see `eventLogTableDefinition`, or the `EventLog` CDK construct). */
  readonly tableName: string;
  /** @default a new DynamoDBClient from the environment */
  readonly client?: DynamoDBClient;
  /** Settings per stream name; streams not listed use `defaultStreamSettings`. */
  readonly streams?: Readonly<Record<string, StreamSettings>>;
  /** @default { writeShards: 1 }, kept for ever */
  readonly defaultStreamSettings?: StreamSettings;
  /**
   * How far behind now tailing readers (`readAfter`) stay, so that no late commit lands behind them.
   * One setting per stream, stored with the stream by its first writer or reader (with this value, or
   * the default) and used by all of them; an EventLog given a different value for an existing stream
   * fails with `ConflictError` with kind `stream-timing`. Leave it out to use each stream's.
   * @default the stream's; 1500 for a new stream
   */
  readonly settleWindowMs?: number;
  /**
   * How long a commit may take from id assignment to acknowledgement before it is abandoned with a
   * `CommitOutcomeUnknownError`. One setting per stream, like `settleWindowMs`, and below it.
   * @default the stream's; two thirds of the settle window for a new stream (1000)
   */
  readonly commitDeadlineMs?: number;
  /** The clock, in milliseconds since the epoch. @default Date.now */
  readonly clock?: () => number;
  /** @default a generator on `clock` */
  readonly idGenerator?: EventIdGenerator;
}

/** A bound of a range: an event id, or an instant (a `Date` or epoch milliseconds). */
export type RangeBound = string | Instant;

/** Options of `EventLog.range()` and `revrange()`. */
export interface RangeOptions {
  /** The oldest event to include. @default the beginning of the stream */
  readonly from?: RangeBound;
  /** The newest event to include. @default the end of the stream */
  readonly to?: RangeBound;
  /** Leave out events whose ids equal `from` or `to` (PipeProc's exclusive ranges). @default false */
  readonly exclusive?: boolean;
  /** Only events of these types. @default every type */
  readonly types?: readonly string[];
  /** @default 100, at most 10000 */
  readonly limit?: number;
  /** The `cursor` of the previous page, to read the next one. */
  readonly cursor?: string;
  /** Newest first. `revrange()` sets it. @default false */
  readonly reverse?: boolean;
}

/** One page of a range. */
export interface RangePage<TData = unknown> {
  readonly events: StoredEvent<TData>[];
  /** Set when the page is full: pass it back to read the next page (which may be empty). */
  readonly cursor?: string;
}

/** Options of the time-bucket look-ups. */
export interface ListTimeBucketsOptions {
  /** Only buckets at or after this one. */
  readonly from?: string;
  /** Only buckets at or before this one. */
  readonly to?: string;
  /** @default every bucket */
  readonly limit?: number;
  /** Newest first. @default false */
  readonly reverse?: boolean;
}
