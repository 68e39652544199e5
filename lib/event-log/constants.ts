/** DynamoDB's rule for table names. */
export const TABLE_NAME_PATTERN = /^[A-Za-z0-9_.-]{3,255}$/;
/** DynamoDB's item size limit, in bytes. */
export const MAX_ITEM_BYTES = 400 * 1024;
/** The most actions one TransactWriteItems call may hold. */
export const MAX_TRANSACTION_ITEMS = 100;
/** The most bytes one TransactWriteItems call may hold. */
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;
/** The most write shards a stream may spread one hour over. */
export const MAX_WRITE_SHARDS = 100;

/**
 * How far behind "now" a tailing reader of a stream stays by default. Events with ids older than this
 * are final: no commit can still land among them (see `docs/late-writes.md`). A stream's settle window
 * and commit deadline are stored with the stream, so every writer and reader uses the same.
 */
export const DEFAULT_SETTLE_WINDOW_MS = 1_500;
/**
 * A stream's commit deadline when only its settle window is given: two thirds of it, leaving a third
 * for the uncertainty of the clocks (see `docs/late-writes.md`).
 *
 * @example
 * ```ts
 * defaultCommitDeadlineMs(1_500); // 1000
 * ```
 */
export function defaultCommitDeadlineMs(settleWindowMs: number): number {
  return Math.max(1, Math.floor((settleWindowMs * 2) / 3));
}
/** How long a commit may take by default, from id assignment to acknowledgement, before it is abandoned. */
export const DEFAULT_COMMIT_DEADLINE_MS = defaultCommitDeadlineMs(DEFAULT_SETTLE_WINDOW_MS);
/** Events returned by one `range()` call when no limit is given. */
export const DEFAULT_RANGE_LIMIT = 100;
/** The most events one `range()` call may return. */
export const MAX_RANGE_LIMIT = 10_000;

/**
 * The most DynamoDB queries one `readAfter()` call makes by default (bucket index and event queries).
 * Each query reads at most 1 MB, so a call reads at most about 50 MB however sparse the events it
 * wants are; a call that reaches it ends early, with a position past everything it examined.
 */
export const DEFAULT_READ_MAX_QUERIES = 50;
/** The most items (matching or not) one `readAfter()` call examines by default. */
export const DEFAULT_READ_MAX_ITEMS = 5_000;
/**
 * The most stored bytes of events one `readAfter()` page carries by default: 1,000 events of up to
 * 400 KB each would be 400 MB, more than a fetcher Lambda holds. A page always carries at least one
 * event when there is one, however large.
 */
export const DEFAULT_READ_MAX_BYTES = 4 * 1024 * 1024;

/** Attribute names of the event log table. */
export const ATTRIBUTES = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** An event item written before segments: its type and its data as JSON text. */
  type: 'type',
  data: 'data',
  /** A segment: its events, compressed (binary), the codec, and the count of events per type. */
  events: 'events',
  codec: 'codec',
  counts: 'counts',
  eventPartitionKey: 'partitionKey',
  shards: 'shards',
  expiresAt: 'expiresAt',
  settleWindowMs: 'settleWindowMs',
  commitDeadlineMs: 'commitDeadlineMs',
} as const;
