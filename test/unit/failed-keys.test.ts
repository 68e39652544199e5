import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib';
import { decodeListCursor, encodeListCursor } from '../../lib/failed/list-cursor';
import { truncateUtf8 } from '../../lib/failed/truncate';
import {
  claimKey,
  dayOf,
  daysNewestFirst,
  failureRecordKey,
  isKeyTime,
  MAX_KEY_TIME_MS,
  malformedRecordKey,
  sortKeyRange,
} from '../../lib/state/keys';
import { EventIdGenerator } from '../../lib/time/event-id';

const AT = Date.parse('2024-05-01T12:30:00.000Z');
const eventId = new EventIdGenerator({ now: () => AT }).next();

describe('failed-event key layout', () => {
  it('keeps one claim item per event of a pipeline', () => {
    expect(claimKey('billing', eventId)).toEqual({ pk: 'failed#billing', sk: eventId });
  });

  it('partitions failure records by pipeline and UTC day, sorted by time then event id', () => {
    expect(failureRecordKey('billing', AT, eventId)).toEqual({
      pk: 'failures#billing#20240501',
      sk: `2024-05-01T12:30:00.000Z#${eventId}`,
    });
    expect(failureRecordKey('billing', Date.parse('2024-05-01T23:59:59.999Z'), eventId).pk).toBe(
      'failures#billing#20240501',
    );
    expect(failureRecordKey('billing', Date.parse('2024-05-02T00:00:00.000Z'), eventId).pk).toBe(
      'failures#billing#20240502',
    );
  });

  it('sorts record keys by time as text', () => {
    const times = ['2024-05-01T00:00:00.001Z', '2024-05-01T09:59:59.999Z', '2024-05-01T10:00:00.000Z'];
    const keys = times.map((time) => failureRecordKey('p', Date.parse(time), eventId).sk);
    expect([...keys].sort()).toEqual(keys);
  });

  it('keys malformed message records by the time received and the message id', () => {
    expect(malformedRecordKey('billing', AT, 'm-1')).toEqual({
      pk: 'malformed#billing#20240501',
      sk: '2024-05-01T12:30:00.000Z#m-1',
    });
  });

  it('drops fractions of a millisecond from key times', () => {
    expect(failureRecordKey('p', AT + 0.7, eventId)).toEqual(failureRecordKey('p', AT, eventId));
  });

  it('lists the days of a range newest first, both ends included', () => {
    expect(daysNewestFirst(Date.parse('2024-04-29T23:00:00Z'), Date.parse('2024-05-01T01:00:00Z'))).toEqual([
      '20240501',
      '20240430',
      '20240429',
    ]);
    expect(daysNewestFirst(AT, AT)).toEqual(['20240501']);
    expect(dayOf(Date.parse('2024-12-31T23:59:59.999Z'))).toBe('20241231');
  });

  it('bounds a range of sort keys so that both ends are included', () => {
    const { low, high } = sortKeyRange(AT, AT);
    const key = failureRecordKey('p', AT, eventId).sk;
    expect(low <= key && key <= high).toBe(true);
    expect(failureRecordKey('p', AT + 1, eventId).sk > high).toBe(true);
    expect(failureRecordKey('p', AT - 1, eventId).sk < low).toBe(true);
  });

  it('accepts key times from 1970 to the end of 9999 only', () => {
    expect(isKeyTime(0)).toBe(true);
    expect(isKeyTime(MAX_KEY_TIME_MS)).toBe(true);
    expect(isKeyTime(MAX_KEY_TIME_MS + 1)).toBe(false);
    expect(isKeyTime(-1)).toBe(false);
    expect(isKeyTime(Number.NaN)).toBe(false);
    expect(isKeyTime('1')).toBe(false);
  });
});

describe('listing cursors', () => {
  it('round-trips a position, with and without a sort key', () => {
    const position = { day: '20240501', sortKey: `2024-05-01T12:30:00.000Z#${eventId}` };
    expect(decodeListCursor(encodeListCursor(position))).toEqual(position);
    expect(decodeListCursor(encodeListCursor({ day: '20240430' }))).toEqual({ day: '20240430' });
  });

  it('fails when the cursor was not written by a listing', () => {
    expect(() => decodeListCursor('not a cursor')).toThrow(ValidationError);
    expect(() => decodeListCursor(Buffer.from('{"d":"yesterday"}').toString('base64url'))).toThrow(
      /cursor must be one returned by an earlier listing/,
    );
  });
});

describe('truncateUtf8', () => {
  it('leaves a short text as it is', () => {
    expect(truncateUtf8('hello', 5)).toEqual({ text: 'hello', bytes: 5, truncated: false });
  });

  it('cuts on a character boundary, never inside one', () => {
    expect(truncateUtf8('héllo', 2)).toEqual({ text: 'h', bytes: 6, truncated: true });
    expect(truncateUtf8('héllo', 3)).toEqual({ text: 'hé', bytes: 6, truncated: true });
    const emoji = '😀😀';
    expect(truncateUtf8(emoji, 5).text).toBe('😀');
    expect(Buffer.byteLength(truncateUtf8('x'.repeat(70_000), 65_536).text)).toBe(65_536);
  });
});
