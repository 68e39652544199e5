import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * Every key of the state table, and the attribute names its definition (`PipelineStateTable` in the
 * CDK constructs) shares with the code that reads and writes it. One table, string hash key `pk`,
 * string range key `sk`, TTL on `expiresAt`, no secondary index:
 *
 * | item                          | pk                                   | sk                          |
 * | ----------------------------- | ------------------------------------ | --------------------------- |
 * | pipeline definition           | `pipelines`                          | `<pipeline>`                |
 * | checkpoint, lease, send plan  | `pipeline#<pipeline>`                | `state`                     |
 * | fetcher run record            | `pipeline#<pipeline>#runs`           | `<startedAt ISO>#<runId>`   |
 * | seek record                   | `pipeline#<pipeline>#seeks`          | `<at ISO>#<uuid>`           |
 * | "Backfill Completed" sent     | `backfill#<backfill pipeline>`       | `completed`                 |
 * | idempotency marker            | `marker#<pipeline>#<message name>`   | `-`                         |
 * | running totals                | `counters#<pipeline>`                | `total`                     |
 * | failure claim, one per event  | `failed#<pipeline>`                  | `<eventId>[#<redrive>]`     |
 * | failure record                | `failures#<pipeline>#<yyyyMMdd>`     | `<failedAt ISO>#<eventId>`  |
 * | malformed message record      | `malformed#<pipeline>#<yyyyMMdd>`    | `<receivedAt ISO>#<messageId>` |
 * | sync cursor and lock          | `sync#<resource>`                    | `state`                     |
 * | sync run record               | `sync#<resource>#runs`               | `<startedAt ISO>#<runId>`   |
 * | content hash of a record      | `sync#<resource>#record#<key>`       | `hash`                      |
 *
 * Records are partitioned by the UTC day, so one day's failures of a pipeline are one sorted query,
 * newest first with the sort key reversed. Pipeline and resource names cannot hold `#` (see
 * `NAME_PATTERN`), so one name's partitions never match another's; the IAM key patterns of each
 * function are built from these same builders.
 */

/** The state table's key and TTL attributes, as the table is defined. */
export const STATE_TABLE_ATTRIBUTES = {
  /** The string hash key. */
  partitionKey: 'pk',
  /** The string range key. */
  sortKey: 'sk',
  /** Epoch seconds after which DynamoDB TTL deletes an item (markers, records, run records). */
  timeToLive: 'expiresAt',
} as const;

/** A key of the state table. */
export interface TableKey {
  readonly pk: string;
  readonly sk: string;
}

/** The partition holding every pipeline's definition: one item per pipeline, sort key its name. */
export const REGISTRY_PARTITION = 'pipelines';

/** The latest time a key holds: the end of the year 9999, past which ISO dates stop sorting as text. */
export const MAX_KEY_TIME_MS = 253_402_300_799_999;
const DAY_MS = 86_400_000;

/**
 * A key as DynamoDB takes it.
 *
 * @example
 * ```ts
 * attributeKey({ pk: 'pipelines', sk: 'billing' }); // { pk: { S: 'pipelines' }, sk: { S: 'billing' } }
 * ```
 */
export function attributeKey(key: TableKey): Record<string, AttributeValue> {
  return { pk: { S: key.pk }, sk: { S: key.sk } };
}

/** The registry item of a pipeline's definition. */
export function registryKey(pipeline: string): TableKey {
  return { pk: REGISTRY_PARTITION, sk: pipeline };
}

/** The partition of a pipeline's state item; its run and seek records sit under `<it>#runs`, `<it>#seeks`. */
export function pipelinePartition(pipeline: string): string {
  return `pipeline#${pipeline}`;
}

/** The item holding a pipeline's checkpoint, lease and send plan. */
export function pipelineStateKey(pipeline: string): TableKey {
  return { pk: pipelinePartition(pipeline), sk: 'state' };
}

/** The pipeline named by the partition key of its state item. */
export function pipelineOfStateKey(partitionKey: string): string {
  const prefix = pipelinePartition('');
  return partitionKey.startsWith(prefix) ? partitionKey.slice(prefix.length) : partitionKey;
}

/** The partition of a pipeline's records of one kind (`runs`, `seeks`; `*` in IAM patterns: every kind). */
export function pipelineRecordsPartition(pipeline: string, kind: string): string {
  return `${pipelinePartition(pipeline)}#${kind}`;
}

/** The partition of a pipeline's fetcher run records. */
export function pipelineRunsPartition(pipeline: string): string {
  return pipelineRecordsPartition(pipeline, 'runs');
}

/** The partition of a pipeline's seek records. */
export function seeksPartition(pipeline: string): string {
  return pipelineRecordsPartition(pipeline, 'seeks');
}

/**
 * The sort key of a record kept newest first, under a time and an id.
 *
 * @example
 * ```ts
 * timedSortKey(Date.parse('2024-05-01T12:30:00Z'), runId); // `2024-05-01T12:30:00.000Z#${runId}`
 * ```
 */
export function timedSortKey(ms: number, id: string): string {
  return `${isoTime(ms)}#${id}`;
}

/** The partition of the once-only "Backfill Completed" record of a backfill pipeline. */
export function backfillPartition(backfillPipeline: string): string {
  return `backfill#${backfillPipeline}`;
}

/** The once-only "Backfill Completed" record of a backfill pipeline. */
export function backfillCompletedKey(backfillPipeline: string): TableKey {
  return { pk: backfillPartition(backfillPipeline), sk: 'completed' };
}

/** The partition of one idempotency marker of a pipeline (`*` in IAM patterns: all of them). */
export function markerPartition(pipeline: string, messageName: string): string {
  return `marker#${pipeline}#${messageName}`;
}

/** The item of a message's idempotency marker. */
export function markerItemKey(pipeline: string, messageName: string): TableKey {
  return { pk: markerPartition(pipeline, messageName), sk: '-' };
}

/** The message name of a marker, from its partition key. */
export function messageNameOfMarker(pipeline: string, partitionKey: string): string {
  return partitionKey.slice(markerPartition(pipeline, '').length);
}

/** The partition of a pipeline's running totals. */
export function countersPartition(pipeline: string): string {
  return `counters#${pipeline}`;
}

/** The item of a pipeline's running totals. */
export function countersKey(pipeline: string): TableKey {
  return { pk: countersPartition(pipeline), sk: 'total' };
}

/** The partition of a pipeline's failure claims. */
export function claimsPartition(pipeline: string): string {
  return `failed#${pipeline}`;
}

/**
 * The claim item of a failed event: the one item per event that makes "handed over once" hold. An
 * event sent back by a redrive is a fresh start: if it fails again, it has a claim of its own, under
 * the redrive's identity, and is handed over again.
 *
 * @example
 * ```ts
 * claimKey('billing', eventId); // { pk: 'failed#billing', sk: eventId }
 * claimKey('billing', eventId, 'r1'); // { pk: 'failed#billing', sk: `${eventId}#r1` }
 * ```
 */
export function claimKey(pipeline: string, eventId: string, redrive?: string): TableKey {
  return { pk: claimsPartition(pipeline), sk: redrive === undefined ? eventId : `${eventId}#${redrive}` };
}

/**
 * The failure record of an event that failed at `failedAtMs`.
 *
 * @example
 * ```ts
 * failureRecordKey('billing', Date.parse('2024-05-01T12:30:00Z'), eventId);
 * // { pk: 'failures#billing#20240501', sk: `2024-05-01T12:30:00.000Z#${eventId}` }
 * ```
 */
export function failureRecordKey(pipeline: string, failedAtMs: number, eventId: string): TableKey {
  return { pk: failuresPartition(pipeline, dayOf(failedAtMs)), sk: timedSortKey(failedAtMs, eventId) };
}

/**
 * The record of a malformed DLQ message received at `receivedAtMs`.
 *
 * @example
 * ```ts
 * malformedRecordKey('billing', Date.parse('2024-05-01T12:30:00Z'), messageId);
 * // { pk: 'malformed#billing#20240501', sk: `2024-05-01T12:30:00.000Z#${messageId}` }
 * ```
 */
export function malformedRecordKey(pipeline: string, receivedAtMs: number, messageId: string): TableKey {
  return {
    pk: malformedPartition(pipeline, dayOf(receivedAtMs)),
    sk: timedSortKey(receivedAtMs, messageId),
  };
}

/** The partition of one day's failure records of a pipeline (`*` in IAM patterns: every day). */
export function failuresPartition(pipeline: string, day: string): string {
  return `failures#${pipeline}#${day}`;
}

/** The partition of one day's malformed message records of a pipeline (`*` in IAM patterns: every day). */
export function malformedPartition(pipeline: string, day: string): string {
  return `malformed#${pipeline}#${day}`;
}

/** The partition of a sync resource's cursor and lock. */
export function syncPartition(resource: string): string {
  return `sync#${resource}`;
}

/** The item holding a sync resource's lock and cursor. */
export function syncStateKey(resource: string): TableKey {
  return { pk: syncPartition(resource), sk: 'state' };
}

/** The partition of a sync resource's run records. */
export function syncRunsPartition(resource: string): string {
  return `${syncPartition(resource)}#runs`;
}

/** The partition of the content hash of one record of a sync resource: one partition per record. */
export function contentHashPartition(resource: string, recordKey: string): string {
  return `${syncPartition(resource)}#record#${recordKey}`;
}

/** The item holding the content hash of one record of a resource. */
export function contentHashKey(resource: string, recordKey: string): TableKey {
  return { pk: contentHashPartition(resource, recordKey), sk: 'hash' };
}

/** The record key of a content hash item, from its partition key. */
export function recordKeyOfContentHash(resource: string, partitionKey: string): string {
  return partitionKey.slice(contentHashPartition(resource, '').length);
}

/**
 * The UTC day of a time, `yyyyMMdd`.
 *
 * @example
 * ```ts
 * dayOf(Date.parse('2024-05-01T23:59:59.999Z')); // '20240501'
 * ```
 */
export function dayOf(ms: number): string {
  return isoTime(ms).slice(0, 10).replaceAll('-', '');
}

/**
 * The UTC days from `toMs` back to `fromMs`, newest first, both ends included.
 *
 * @example
 * ```ts
 * daysNewestFirst(Date.parse('2024-04-30T08:00:00Z'), Date.parse('2024-05-01T01:00:00Z')); // ['20240501', '20240430']
 * ```
 */
export function daysNewestFirst(fromMs: number, toMs: number): string[] {
  const days: string[] = [];
  const first = Math.floor(fromMs / DAY_MS);
  for (let day = Math.floor(toMs / DAY_MS); day >= first; day -= 1) days.push(dayOf(day * DAY_MS));
  return days;
}

/**
 * The sort key range of the records from `fromMs` to `toMs`, both included, for a `BETWEEN` condition.
 *
 * @example
 * ```ts
 * sortKeyRange(from, to); // { low: '2024-05-01T00:00:00.000Z', high: '2024-05-01T12:00:00.000Z#\uffff' }
 * ```
 */
export function sortKeyRange(fromMs: number, toMs: number): { low: string; high: string } {
  return { low: isoTime(fromMs), high: `${isoTime(toMs)}#\uffff` };
}

/** Whether a time can be written in a key: a whole or fractional millisecond count from 1970 to 9999. */
export function isKeyTime(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && ms <= MAX_KEY_TIME_MS;
}

/**
 * The TTL value (`expiresAt`, epoch seconds) of an item written at `nowMs` and kept `retentionSeconds`.
 *
 * @example
 * ```ts
 * expiresAfter(Date.parse('2024-05-01T00:00:00Z'), 86_400); // 1714608000
 * ```
 */
export function expiresAfter(nowMs: number, retentionSeconds: number): number {
  return Math.floor(nowMs / 1000) + retentionSeconds;
}

function isoTime(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}
