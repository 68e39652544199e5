/**
 * The layout of failed-event items in the state table (string hash key `pk`, string range key `sk`),
 * next to the pipeline items (`pipeline#...`, `pipelines`):
 *
 * | item                     | pk                               | sk                              |
 * | ------------------------ | -------------------------------- | ------------------------------- |
 * | claim, one per event     | `failed#<pipeline>`              | `<eventId>[#<redrive>]`         |
 * | failure record           | `failures#<pipeline>#<yyyyMMdd>` | `<failedAt ISO>#<eventId>`      |
 * | malformed message record | `malformed#<pipeline>#<yyyyMMdd>`| `<receivedAt ISO>#<messageId>`  |
 *
 * Records are partitioned by the UTC day, so one day's failures of a pipeline are one sorted query,
 * newest first with the sort key reversed. Pipeline names cannot hold `#` (see `NAME_PATTERN`).
 */

/** A key of the state table. */
export interface TableKey {
  readonly pk: string;
  readonly sk: string;
}

/** The latest time a key holds: the end of the year 9999, past which ISO dates stop sorting as text. */
export const MAX_KEY_TIME_MS = 253_402_300_799_999;
const DAY_MS = 86_400_000;

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
  return { pk: `failed#${pipeline}`, sk: redrive === undefined ? eventId : `${eventId}#${redrive}` };
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
  return { pk: failuresPartition(pipeline, dayOf(failedAtMs)), sk: `${isoTime(failedAtMs)}#${eventId}` };
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
    sk: `${isoTime(receivedAtMs)}#${messageId}`,
  };
}

/** The partition of one day's failure records of a pipeline. */
export function failuresPartition(pipeline: string, day: string): string {
  return `failures#${pipeline}#${day}`;
}

/** The partition of one day's malformed message records of a pipeline. */
export function malformedPartition(pipeline: string, day: string): string {
  return `malformed#${pipeline}#${day}`;
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

function isoTime(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}
