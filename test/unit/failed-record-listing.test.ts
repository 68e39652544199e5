import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors';
import {
  DEFAULT_LIST_LIMIT,
  DEFAULT_LIST_SPAN_DAYS,
  MAX_LIST_LIMIT,
  MAX_LIST_SPAN_DAYS,
} from '../../lib/failed/constants';
import { listRange } from '../../lib/failed/record-listing';
import type { ListRecordsOptions } from '../../lib/failed/records';
import { daysNewestFirst, MAX_KEY_TIME_MS } from '../../lib/state/keys';

const DAY_MS = 86_400_000;
const NOW = Date.parse('2024-05-01T12:30:00.000Z');

function errorOf(action: () => unknown): ValidationError {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

/** The UTC day `ms` falls in, as its start in epoch milliseconds. */
const dayStart = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
/** A `yyyyMMdd` day partition, as its start in epoch milliseconds. */
const partitionStart = (day: string) =>
  Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8)));

describe('listRange', () => {
  it('lists the last 30 days up to now, 100 records a page, when given nothing', () => {
    expect(listRange({}, NOW)).toEqual({
      fromMs: NOW - DEFAULT_LIST_SPAN_DAYS * DAY_MS,
      toMs: NOW,
      limit: DEFAULT_LIST_LIMIT,
    });
    expect(DEFAULT_LIST_SPAN_DAYS).toBe(30);
    expect(DEFAULT_LIST_LIMIT).toBe(100);
  });

  it('counts the default from back from the to given, not from now', () => {
    const to = NOW - 90 * DAY_MS;

    expect(listRange({ to }, NOW)).toMatchObject({ fromMs: to - 30 * DAY_MS, toMs: to });
  });

  it('takes from and to as epoch milliseconds or as dates, and keeps the limit given', () => {
    const from = NOW - 3 * DAY_MS;

    const asNumbers = listRange({ from, to: NOW, limit: 7 }, 0);
    const asDates = listRange({ from: new Date(from), to: new Date(NOW), limit: 7 }, 0);

    expect(asNumbers).toEqual({ fromMs: from, toMs: NOW, limit: 7 });
    expect(asDates).toEqual(asNumbers);
  });

  it('accepts a range of a single instant, and one exactly 400 days long', () => {
    expect(listRange({ from: NOW, to: NOW }, NOW)).toMatchObject({ fromMs: NOW, toMs: NOW });
    expect(listRange({ from: NOW - MAX_LIST_SPAN_DAYS * DAY_MS, to: NOW }, NOW).fromMs).toBe(
      NOW - 400 * DAY_MS,
    );
  });

  it('accepts the first and last times a key can hold, and limits of 1 and 1000', () => {
    expect(listRange({ from: 0, to: 0, limit: 1 }, NOW)).toEqual({ fromMs: 0, toMs: 0, limit: 1 });
    expect(listRange({ from: MAX_KEY_TIME_MS, to: MAX_KEY_TIME_MS, limit: MAX_LIST_LIMIT }, NOW)).toEqual({
      fromMs: MAX_KEY_TIME_MS,
      toMs: MAX_KEY_TIME_MS,
      limit: 1_000,
    });
  });

  it('fails when to is not a time from 1970 to 9999, naming it', () => {
    for (const to of [-1, Number.NaN, MAX_KEY_TIME_MS + 1, new Date(Number.NaN)]) {
      const error = errorOf(() => listRange({ from: 0, to }, NOW));

      expect(error.message).toMatch(/^invalid listing: to must be a time from 1970 to 9999 \(given /);
      expect(error.message).not.toMatch(/from must/);
    }
  });

  it('fails when from is not a time from 1970 to 9999, naming it and nothing else', () => {
    const error = errorOf(() => listRange({ from: -5 }, NOW));

    expect(error.message).toBe('invalid listing: from must be a time from 1970 to 9999 (given -5)');
  });

  it('fails when the default from falls before 1970, as it counts back from an early to', () => {
    const error = errorOf(() => listRange({ to: DAY_MS }, NOW));

    expect(error.message).toMatch(/from must be a time from 1970 to 9999 \(given undefined\)/);
  });

  it('fails when from is after to, naming both as times', () => {
    const error = errorOf(() => listRange({ from: NOW + 1, to: NOW }, NOW));

    expect(error.message).toBe(
      'invalid listing: from must not be after to (given from 2024-05-01T12:30:00.001Z, to 2024-05-01T12:30:00.000Z)',
    );
  });

  it('fails when from and to are more than 400 days apart, naming the days rounded up', () => {
    const error = errorOf(() => listRange({ from: NOW - 400 * DAY_MS - 1, to: NOW }, NOW));

    expect(error.message).toBe(
      'invalid listing: from and to must be at most 400 days apart (given 401 days)',
    );
  });

  it.each([[0], [-1], [1.5], [MAX_LIST_LIMIT + 1], [Number.NaN]])(
    'fails for a limit of %s, naming it',
    (limit) => {
      const error = errorOf(() => listRange({ limit }, NOW));

      expect(error.message).toBe(
        `invalid listing: limit must be a whole number from 1 to 1000 (given ${limit})`,
      );
    },
  );

  it('fails once for every problem together, with code invalid-value and the options as its value', () => {
    const options: ListRecordsOptions = { from: -1, to: -2, limit: 0 };

    const error = errorOf(() => listRange(options, NOW));

    expect(error.code).toBe('invalid-value');
    expect(error.value).toBe(options);
    expect(error.message.split('; ')).toEqual([
      'invalid listing: to must be a time from 1970 to 9999 (given -2)',
      'from must be a time from 1970 to 9999 (given -1)',
      'limit must be a whole number from 1 to 1000 (given 0)',
    ]);
  });

  it('accepts exactly the ranges within 1970 to 9999, in order, at most 400 days long, with a whole limit of 1 to 1000', () => {
    const time = fc.oneof(
      fc.integer({ min: -DAY_MS, max: MAX_KEY_TIME_MS + DAY_MS }),
      fc.integer({ min: NOW - 500 * DAY_MS, max: NOW + 500 * DAY_MS }),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY),
    );
    const options = fc.record(
      {
        from: time,
        to: time,
        limit: fc.oneof(fc.integer({ min: -2, max: MAX_LIST_LIMIT + 2 }), fc.double({ noNaN: false })),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(options, (given) => {
        const toMs = given.to ?? NOW;
        const fromMs = given.from ?? toMs - 30 * DAY_MS;
        const limit = given.limit ?? 100;
        const inKeys = (ms: number) => Number.isFinite(ms) && ms >= 0 && ms <= MAX_KEY_TIME_MS;
        const valid =
          inKeys(fromMs) &&
          inKeys(toMs) &&
          fromMs <= toMs &&
          toMs - fromMs <= 400 * DAY_MS &&
          Number.isInteger(limit) &&
          limit >= 1 &&
          limit <= 1_000;

        if (valid) expect(listRange(given, NOW)).toEqual({ fromMs, toMs, limit });
        else expect(() => listRange(given, NOW)).toThrow(ValidationError);
      }),
    );
  });

  it('lists day partitions that cover exactly the range asked, newest first, one per day', () => {
    const range = fc
      .tuple(
        fc.integer({ min: 0, max: MAX_KEY_TIME_MS }),
        fc.integer({ min: 0, max: MAX_LIST_SPAN_DAYS * DAY_MS }),
      )
      .filter(([to, span]) => to - span >= 0)
      .map(([to, span]) => ({ from: to - span, to }));
    fc.assert(
      fc.property(range, (given) => {
        const { fromMs, toMs } = listRange(given, NOW);

        const days = daysNewestFirst(fromMs, toMs).map(partitionStart);

        expect(days[0]).toBe(dayStart(toMs));
        expect(days.at(-1)).toBe(dayStart(fromMs));
        for (let index = 1; index < days.length; index += 1) {
          expect(days[index]).toBe((days[index - 1] as number) - DAY_MS);
        }
        expect(days.length).toBeLessThanOrEqual(MAX_LIST_SPAN_DAYS + 1);
      }),
    );
  });
});
