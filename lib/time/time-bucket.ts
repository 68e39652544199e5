import { ValidationError } from '../errors';

/** The length of one time bucket: an hour, in milliseconds. */
export const TIME_BUCKET_MS = 3_600_000;

const TIME_BUCKET_PATTERN = /^(\d{4})(\d{2})(\d{2})(\d{2})0000$/;

/** A point in time: a `Date` or milliseconds since the epoch. */
export type Instant = Date | number;

/**
 * The time bucket (`yyyyMMddHH0000`, UTC) that holds an instant.
 *
 * @example
 * ```ts
 * timeBucketOf(new Date('2024-02-29T23:59:59.999Z')); // '20240229230000'
 * ```
 */
export function timeBucketOf(instant: Instant): string {
  const ms = toEpochMs(instant);
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  if (year < 1970 || year > 9999) {
    throw ValidationError.invalidRange('time buckets cover the years 1970 to 9999', date.toISOString());
  }
  return (
    String(year).padStart(4, '0') +
    pad2(date.getUTCMonth() + 1) +
    pad2(date.getUTCDate()) +
    pad2(date.getUTCHours()) +
    '0000'
  );
}

/**
 * Whether a value is a well-formed time bucket naming a real hour.
 *
 * @example
 * ```ts
 * isTimeBucket('20240229230000'); // true
 * isTimeBucket('20230229230000'); // false: 2023 is not a leap year
 * ```
 */
export function isTimeBucket(value: unknown): value is string {
  return typeof value === 'string' && parseBucket(value) !== undefined;
}

/**
 * Throws a `ValidationError` with code `invalid-time-bucket` naming the value unless it is a well-formed time bucket.
 *
 * @example
 * ```ts
 * assertTimeBucket(request.from); // throws for '2024-01-01', '20240101120030', '20241301000000'
 * ```
 */
export function assertTimeBucket(value: unknown): asserts value is string {
  if (!isTimeBucket(value)) throw ValidationError.invalidTimeBucket(value);
}

/**
 * The first millisecond of a time bucket, as milliseconds since the epoch.
 *
 * @example
 * ```ts
 * new Date(timeBucketStartMs('20240101120000')).toISOString(); // '2024-01-01T12:00:00.000Z'
 * ```
 */
export function timeBucketStartMs(bucket: string): number {
  const ms = parseBucket(bucket);
  if (ms === undefined) throw ValidationError.invalidTimeBucket(bucket);
  return ms;
}

/**
 * The first instant of a time bucket.
 *
 * @example
 * ```ts
 * timeBucketToDate('20240101120000').toISOString(); // '2024-01-01T12:00:00.000Z'
 * ```
 */
export function timeBucketToDate(bucket: string): Date {
  return new Date(timeBucketStartMs(bucket));
}

/**
 * The time bucket after this one.
 *
 * @example
 * ```ts
 * nextTimeBucket('20231231230000'); // '20240101000000'
 * ```
 */
export function nextTimeBucket(bucket: string): string {
  return timeBucketOf(timeBucketStartMs(bucket) + TIME_BUCKET_MS);
}

/**
 * The time bucket before this one.
 *
 * @example
 * ```ts
 * previousTimeBucket('20240301000000'); // '20240229230000'
 * ```
 */
export function previousTimeBucket(bucket: string): string {
  return timeBucketOf(timeBucketStartMs(bucket) - TIME_BUCKET_MS);
}

/**
 * Every time bucket from the one holding `from` to the one holding `to`, both included, oldest first.
 * Throws a `ValidationError` with code `invalid-range` when `from` lies after `to`.
 *
 * @example
 * ```ts
 * [...timeBucketsBetween(new Date('2024-01-01T22:30Z'), new Date('2024-01-02T00:10Z'))];
 * // ['20240101220000', '20240101230000', '20240102000000']
 * ```
 */
export function* timeBucketsBetween(from: Instant | string, to: Instant | string): Generator<string> {
  const fromMs = bucketFloorMs(from);
  const toMs = bucketFloorMs(to);
  if (fromMs > toMs) {
    throw ValidationError.invalidRange('from lies after to', { from: display(from), to: display(to) });
  }
  for (let ms = fromMs; ms <= toMs; ms += TIME_BUCKET_MS) yield timeBucketOf(ms);
}

function bucketFloorMs(value: Instant | string): number {
  if (typeof value === 'string') return timeBucketStartMs(value);
  const ms = toEpochMs(value);
  return Math.floor(ms / TIME_BUCKET_MS) * TIME_BUCKET_MS;
}

/** Milliseconds since the epoch of an instant, rejecting invalid dates and non-integers. */
export function toEpochMs(instant: Instant): number {
  const ms = instant instanceof Date ? instant.getTime() : instant;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms)) {
    throw ValidationError.invalidRange(
      'an instant must be a valid Date or whole milliseconds since the epoch',
      display(instant),
    );
  }
  return ms;
}

function parseBucket(value: string): number | undefined {
  const match = TIME_BUCKET_PATTERN.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour] = match.slice(1).map(Number) as [number, number, number, number];
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour > 23) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour);
  const check = new Date(ms);
  // Date.UTC rolls 31 April over to 1 May; a real date round-trips unchanged.
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  return ms;
}

function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

function display(value: unknown): unknown {
  return value instanceof Date
    ? Number.isNaN(value.getTime())
      ? 'Invalid Date'
      : value.toISOString()
    : value;
}
