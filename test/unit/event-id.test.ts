import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors';
import {
  EventIdGenerator,
  eventIdToEpochMs,
  eventIdToTime,
  isEventId,
  largestEventIdAt,
  smallestEventIdAt,
} from '../../lib/time/event-id';

const anyMs = fc.integer({ min: 0, max: Date.UTC(9000, 0, 1) });

describe('event ids', () => {
  it('are version 7 UUIDs that carry their commit time', () => {
    fc.assert(
      fc.property(anyMs, (ms) => {
        const id = new EventIdGenerator({ now: () => ms }).next();
        expect(isEventId(id)).toBe(true);
        expect(eventIdToEpochMs(id)).toBe(ms);
        expect(eventIdToTime(id).getTime()).toBe(ms);
      }),
    );
  });

  it('increase strictly within one millisecond, past the 4,096 that fit in it', () => {
    const ids = new EventIdGenerator({ now: () => 1_700_000_000_000 });
    const made = Array.from({ length: 10_000 }, () => ids.next());
    for (let index = 1; index < made.length; index += 1)
      expect((made[index - 1] as string) < (made[index] as string)).toBe(true);
    expect(eventIdToEpochMs(made[4095] as string)).toBe(1_700_000_000_000);
    expect(eventIdToEpochMs(made[4096] as string)).toBe(1_700_000_000_001);
    expect(new Set(made).size).toBe(made.length);
  });

  it('keep increasing when the clock steps back', () => {
    const times = [5_000, 5_000, 4_000, 3_000, 5_001, 4_500];
    let call = 0;
    const ids = new EventIdGenerator({ now: () => times[call++] as number });
    const made = times.map(() => ids.next());
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
    expect(eventIdToEpochMs(made[3] as string)).toBe(5_000);
  });

  it('sort in commit-time order across generators', () => {
    fc.assert(
      fc.property(anyMs, anyMs, (a, b) => {
        fc.pre(a !== b);
        const idA = new EventIdGenerator({ now: () => a }).next();
        const idB = new EventIdGenerator({ now: () => b }).next();
        expect(idA < idB).toBe(a < b);
      }),
    );
  });

  it('bound every id of an instant between the smallest and the largest id at it', () => {
    fc.assert(
      fc.property(anyMs, fc.integer({ min: 1, max: 5000 }), (ms, count) => {
        const ids = new EventIdGenerator({ now: () => ms });
        let last = '';
        for (let index = 0; index < Math.min(count, 4096); index += 1) last = ids.next();
        expect(smallestEventIdAt(ms) <= last && last <= largestEventIdAt(ms)).toBe(true);
        expect(largestEventIdAt(ms) < smallestEventIdAt(ms + 1)).toBe(true);
        expect(isEventId(smallestEventIdAt(ms)) && isEventId(largestEventIdAt(ms))).toBe(true);
      }),
    );
  });

  it.each([
    '018f3a6c-1d2e-4000-8000-000000000000',
    '018F3A6C-1D2E-7000-8000-000000000000',
    '018f3a6c-1d2e-7000-c000-000000000000',
    '018f3a6c1d2e70008000000000000000',
    '',
  ])('fails when the id is %j', (id) => {
    expect(isEventId(id)).toBe(false);
    expect(() => eventIdToEpochMs(id)).toThrow(
      expect.objectContaining({ constructor: ValidationError, code: 'invalid-event-id' }),
    );
    expect(() => eventIdToEpochMs(id)).toThrow(`given ${JSON.stringify(id)}`);
  });
});
