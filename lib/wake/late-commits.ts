import { streamOfEventPartitionKey } from '../event-log/keys';
import { eventIdToEpochMs, isEventId } from '../time/event-id';

/** The part of a DynamoDB stream record that tells when its item was stored. */
export interface TimedStreamRecord {
  readonly eventName?: string;
  readonly dynamodb?: {
    readonly Keys?: Record<string, { readonly S?: string } | undefined>;
    /**
     * When DynamoDB created the record, rounded down: epoch seconds in a Lambda event, a `Date` from
     * the SDK's `GetRecords`. AWS rounds to the second; DynamoDB Local to the minute.
     */
    readonly ApproximateCreationDateTime?: number | Date;
  };
}

/**
 * The stream and sort key of the event item a record shows inserted, or `undefined` for any other
 * change or item (the bucket index, a stream's timing, an expiry).
 *
 * @example
 * ```ts
 * insertedEventItemOf(record); // { stream: 'orders', sortKey: '0193…' }
 * ```
 */
export function insertedEventItemOf(
  record: TimedStreamRecord,
): { readonly stream: string; readonly sortKey?: string } | undefined {
  if (record.eventName !== undefined && record.eventName !== 'INSERT') return undefined;
  const keys = record.dynamodb?.Keys;
  const stream = streamOfEventPartitionKey(keys?.pk?.S);
  if (stream === undefined) return undefined;
  const sortKey = keys?.sk?.S;
  return sortKey === undefined ? { stream } : { stream, sortKey };
}

/** An event item stored after the settle window had passed its id: a reader may have passed it first. */
export interface LateCommit {
  readonly stream: string;
  /** The item's key: the id of the newest event it holds (a commit's events share their time). */
  readonly eventId: string;
  /** How long after its id's time plus the settle window the item was stored, at the least. */
  readonly lateByAtLeastMs: number;
}

/**
 * The event items among `records` that DynamoDB stored after their stream's settle window had passed
 * their id. A tailing reader never reads past `now − settle window`, so an item stored by then is
 * read by every reader whose position is before it; one stored later may have been passed by a
 * reader first (a write applied after its commit was abandoned at the deadline, see
 * `docs/late-writes.md`). The record's creation time is DynamoDB's own clock rounded down, so an item
 * is named only when it was certainly late; a record without a creation time, or of a stream whose
 * window is unknown, names nothing.
 *
 * @example
 * ```ts
 * lateCommitsIn(event.Records, new Map([['orders', 1_500]]));
 * // [{ stream: 'orders', eventId: '…', lateByAtLeastMs: 2_300 }] for an item stored 3.8 s after its id
 * ```
 */
export function lateCommitsIn(
  records: readonly TimedStreamRecord[],
  settleWindowMsByStream: ReadonlyMap<string, number>,
): LateCommit[] {
  const late: LateCommit[] = [];
  for (const record of records) {
    const item = insertedEventItemOf(record);
    const eventId = item?.sortKey;
    const createdAtMs = creationTimeMs(record.dynamodb?.ApproximateCreationDateTime);
    if (item === undefined || !isEventId(eventId) || createdAtMs === undefined) continue;
    const { stream } = item;
    const settleWindowMs = settleWindowMsByStream.get(stream);
    if (settleWindowMs === undefined) continue;
    const lateByAtLeastMs = createdAtMs - (eventIdToEpochMs(eventId) + settleWindowMs);
    if (lateByAtLeastMs > 0) late.push({ stream, eventId, lateByAtLeastMs });
  }
  return late;
}

function creationTimeMs(createdAt: number | Date | undefined): number | undefined {
  if (createdAt instanceof Date) return createdAt.getTime();
  return typeof createdAt === 'number' && Number.isFinite(createdAt) ? createdAt * 1000 : undefined;
}
