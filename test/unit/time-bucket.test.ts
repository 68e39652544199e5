import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors';
import {
  isTimeBucket,
  nextTimeBucket,
  previousTimeBucket,
  TIME_BUCKET_MS,
  timeBucketOf,
  timeBucketStartMs,
  timeBucketsBetween,
} from '../../lib/time/time-bucket';

const HOUR = TIME_BUCKET_MS;
// 1970-01-01T00:00Z to 9999-12-31T23:59:59.999Z
const anyInstant = fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) });
const anyBucket = fc
  .integer({ min: 1, max: Date.UTC(9999, 11, 31, 22) / HOUR })
  .map((hours) => timeBucketOf(hours * HOUR));

describe('time buckets', () => {
  it('puts every instant in the hour that holds it', () => {
    fc.assert(
      fc.property(anyInstant, (ms) => {
        const bucket = timeBucketOf(ms);
        expect(isTimeBucket(bucket)).toBe(true);
        const start = timeBucketStartMs(bucket);
        expect(start).toBeLessThanOrEqual(ms);
        expect(ms).toBeLessThan(start + HOUR);
        expect(new Date(start).toISOString().slice(0, 13)).toBe(new Date(ms).toISOString().slice(0, 13));
      }),
    );
  });

  it('steps next and previous by exactly one hour, in string order', () => {
    fc.assert(
      fc.property(anyBucket, (bucket) => {
        const next = nextTimeBucket(bucket);
        const previous = previousTimeBucket(bucket);
        expect(timeBucketStartMs(next) - timeBucketStartMs(bucket)).toBe(HOUR);
        expect(timeBucketStartMs(bucket) - timeBucketStartMs(previous)).toBe(HOUR);
        expect(previousTimeBucket(next)).toBe(bucket);
        expect(nextTimeBucket(previous)).toBe(bucket);
        expect(previous < bucket && bucket < next).toBe(true);
      }),
    );
  });

  it('orders buckets as strings the way it orders their instants', () => {
    fc.assert(
      fc.property(anyInstant, anyInstant, (a, b) => {
        const [bucketA, bucketB] = [timeBucketOf(a), timeBucketOf(b)];
        const byTime = Math.sign(Math.floor(a / HOUR) - Math.floor(b / HOUR));
        expect(bucketA < bucketB ? -1 : bucketA > bucketB ? 1 : 0).toBe(byTime);
      }),
    );
  });

  it('lists every bucket between two instants, both ends included', () => {
    fc.assert(
      fc.property(anyInstant, fc.integer({ min: 0, max: 2000 * HOUR }), (from, span) => {
        const to = Math.min(from + span, Date.UTC(9999, 11, 31, 23));
        const buckets = [...timeBucketsBetween(from, to)];
        expect(buckets.length).toBe(Math.floor(to / HOUR) - Math.floor(from / HOUR) + 1);
        expect(buckets[0]).toBe(timeBucketOf(from));
        expect(buckets.at(-1)).toBe(timeBucketOf(to));
        for (let index = 1; index < buckets.length; index += 1)
          expect(buckets[index]).toBe(nextTimeBucket(buckets[index - 1] as string));
      }),
      { numRuns: 50 },
    );
  });

  it.each([
    ['a day', '20240115230000', '20240116000000'],
    ['a month of 30 days', '20240430230000', '20240501000000'],
    ['a year', '20231231230000', '20240101000000'],
    ['a leap day', '20240229230000', '20240301000000'],
    ['February in a common year', '20230228230000', '20230301000000'],
    ['February of 2100, not a leap year', '21000228230000', '21000301000000'],
    ['February of 2000, a leap year', '20000228230000', '20000229000000'],
  ])('crosses %s', (_, bucket, expectedNext) => {
    expect(nextTimeBucket(bucket)).toBe(expectedNext);
    expect(previousTimeBucket(expectedNext)).toBe(bucket);
  });

  it.each([
    '20230229000000',
    '21000229000000',
    '20240431000000',
    '20240101240000',
    '20240101120030',
    '20241301000000',
    '20240100000000',
    '2024010112000',
    '2024-01-01T12',
    '19691231230000',
  ])('fails when the bucket is %s', (bucket) => {
    expect(isTimeBucket(bucket)).toBe(false);
    expect(() => timeBucketStartMs(bucket)).toThrow(
      expect.objectContaining({ constructor: ValidationError, code: 'invalid-time-bucket' }),
    );
    expect(() => timeBucketStartMs(bucket)).toThrow(bucket);
  });

  it('fails when a range starts after it ends, naming both ends', () => {
    const from = new Date('2024-01-02T00:00:00Z');
    const to = new Date('2024-01-01T00:00:00Z');
    expect(() => [...timeBucketsBetween(from, to)]).toThrow(
      expect.objectContaining({ constructor: ValidationError, code: 'invalid-range' }),
    );
    expect(() => [...timeBucketsBetween(from, to)]).toThrow(
      /from lies after to.*2024-01-02T00:00:00.000Z.*2024-01-01T00:00:00.000Z/,
    );
  });

  it('fails when an instant is not a valid date', () => {
    expect(() => timeBucketOf(new Date('not a date'))).toThrow(/valid Date.*Invalid Date/);
    expect(() => timeBucketOf(1.5)).toThrow(
      expect.objectContaining({ constructor: ValidationError, code: 'invalid-range' }),
    );
  });
});
