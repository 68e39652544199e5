import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePosition, positionAfterEvent, positionAtTime, positionBeforeEvent } from '../../lib';
import { ValidationError } from '../../lib/errors';
import { EventIdGenerator, isEventId } from '../../lib/time/event-id';
import {
  comparePositions,
  formatPosition,
  isDeliveredAt,
  positionAtBucketStart,
} from '../../lib/time/position';
import { nextTimeBucket, timeBucketOf } from '../../lib/time/time-bucket';

const idAt = (iso: string) => new EventIdGenerator({ now: () => Date.parse(iso) }).next();
const anyMs = fc.integer({ min: 3_600_000, max: Date.UTC(9000, 0, 1) });

describe('positions', () => {
  it('say which events they have delivered', () => {
    const before = idAt('2024-05-01T11:59:59.999Z');
    const at = idAt('2024-05-01T12:00:00.000Z');
    const later = idAt('2024-05-01T12:30:00.000Z');
    const start = positionAtBucketStart('20240501120000');
    expect(isDeliveredAt(start, before)).toBe(true);
    expect(isDeliveredAt(start, at)).toBe(false);
    const afterAt = positionAfterEvent(at);
    expect(afterAt).toEqual({ timeBucket: '20240501120000', eventId: at });
    expect(isDeliveredAt(afterAt, at)).toBe(true);
    expect(isDeliveredAt(afterAt, later)).toBe(false);
  });

  it('start "from 12:30": everything before it delivered, nothing at or after it', () => {
    const position = positionAtTime(new Date('2024-05-01T12:30:00.000Z'));
    expect(position.timeBucket).toBe('20240501120000');
    expect(isDeliveredAt(position, idAt('2024-05-01T12:29:59.999Z'))).toBe(true);
    expect(isDeliveredAt(position, idAt('2024-05-01T12:30:00.000Z'))).toBe(false);
    expect(positionAtTime(new Date('2024-05-01T12:00:00.000Z'))).toEqual({ timeBucket: '20240501120000' });
  });

  it('agree with time: a position at an earlier time is behind one at a later time', () => {
    fc.assert(
      fc.property(anyMs, anyMs, (a, b) => {
        const order = Math.sign(comparePositions(positionAtTime(a), positionAtTime(b)));
        expect(order).toBe(Math.sign(a - b));
      }),
    );
  });

  it('treat the start of a bucket and the end of the one before it as the same place', () => {
    const start = positionAtBucketStart('20240501130000');
    const endOfPrevious = positionAtTime(Date.parse('2024-05-01T13:00:00.000Z'));
    expect(comparePositions(start, endOfPrevious)).toBe(0);
    expect(comparePositions(positionAtBucketStart(nextTimeBucket('20240501130000')), start)).toBe(1);
  });

  it('round-trip through their text form', () => {
    fc.assert(
      fc.property(anyMs, (ms) => {
        const id = new EventIdGenerator({ now: () => ms }).next();
        for (const position of [positionAfterEvent(id), positionAtBucketStart(timeBucketOf(ms))]) {
          expect(parsePosition(formatPosition(position))).toEqual(position);
        }
      }),
    );
  });

  it('fails when the event id lies outside the time bucket, naming both', () => {
    const id = idAt('2024-05-01T13:05:00.000Z');
    expect(() => formatPosition({ timeBucket: '20240501120000', eventId: id })).toThrow(
      expect.objectContaining({ constructor: ValidationError, code: 'invalid-position' }),
    );
    expect(() => formatPosition({ timeBucket: '20240501120000', eventId: id })).toThrow(
      /belongs to bucket 20240501130000, not 20240501120000/,
    );
  });

  it.each(['', '2024050112', '20240501120000/not-an-id', '20240501120000/a/b'])(
    'fails when the text is %j',
    (text) => {
      expect(() => parsePosition(text)).toThrow(
        expect.objectContaining({ constructor: ValidationError, code: 'invalid-position' }),
      );
    },
  );
});

describe('positionBeforeEvent', () => {
  it('stands just before the event: the event is not delivered, every smaller id is', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 47 }),
        fc.integer({ min: 0, max: 0xfff }),
        fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }),
        (ms, sequence, random) => {
          const tail = ((2n << 62n) | random).toString(16).padStart(16, '0');
          const time = ms.toString(16).padStart(12, '0');
          const id = `${time.slice(0, 8)}-${time.slice(8)}-7${sequence.toString(16).padStart(3, '0')}-${tail.slice(0, 4)}-${tail.slice(4)}`;
          const before = positionBeforeEvent(id);
          expect(isDeliveredAt(before, id)).toBe(false);
          if (before.eventId !== undefined) {
            expect(isEventId(before.eventId)).toBe(true);
            expect(before.eventId < id).toBe(true);
            expect(isDeliveredAt(before, before.eventId)).toBe(true);
          }
        },
      ),
    );
  });

  it('steps back over the random bits, the sequence and the millisecond', () => {
    expect(positionBeforeEvent('018f3a6c-1d2e-7001-8000-000000000001').eventId).toBe(
      '018f3a6c-1d2e-7001-8000-000000000000',
    );
    expect(positionBeforeEvent('018f3a6c-1d2e-7001-8000-000000000000').eventId).toBe(
      '018f3a6c-1d2e-7000-bfff-ffffffffffff',
    );
    expect(positionBeforeEvent('018f3a6c-1d2e-7000-8000-000000000000').eventId).toBe(
      '018f3a6c-1d2d-7fff-bfff-ffffffffffff',
    );
  });
});
