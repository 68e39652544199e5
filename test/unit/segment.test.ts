import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptEventError } from '../../lib/errors';
import { itemSizeBytes } from '../../lib/event-log/item-size';
import {
  decodeSegment,
  encodeSegment,
  type SegmentEntry,
  segmentEventCount,
  segmentItem,
} from '../../lib/event-log/segment';
import { EventIdGenerator, indexInRun, runBounds, runIds } from '../../lib/time/event-id';

const PK = 'e#orders#20261205090000#0';

function orderEntry(index: number): SegmentEntry {
  return {
    type: index % 3 === 0 ? 'order.paid' : 'order.placed',
    json: JSON.stringify({
      orderId: `ord_${(index * 7919).toString(36)}`,
      customer: { name: `Customer ${index % 17}`, email: `customer${index % 17}@example.com` },
      items: Array.from({ length: 1 + (index % 5) }, (_, line) => ({
        sku: `SKU-${(index * 31 + line).toString(36).toUpperCase()}`,
        quantity: 1 + (line % 3),
        unitPrice: ((index * 13 + line * 7) % 20_000) / 100,
      })),
      placedAt: new Date(1_780_000_000_000 + index * 60_000).toISOString(),
    }),
    ...(index % 2 === 0 ? { partitionKey: `customer-${index % 17}` } : {}),
  };
}

function itemOf(entries: readonly SegmentEntry[], base = new EventIdGenerator().next()) {
  const ids = runIds(base, entries.length);
  return { ids, item: segmentItem(PK, ids, entries, encodeSegment(entries), undefined) };
}

describe('runs of event ids', () => {
  it('share all but the last byte, count from 00, and sort together', () => {
    const generator = new EventIdGenerator({ now: () => 1_780_000_000_000 });
    const first = runIds(generator.next(), 100);
    const second = runIds(generator.next(), 3);
    expect(first.map(indexInRun)).toEqual(Array.from({ length: 100 }, (_, index) => index));
    expect([...first, ...second]).toEqual([...first, ...second].sort());
    expect(runBounds(first[42] as string)).toEqual({
      first: first[0],
      last: `${(first[0] as string).slice(0, -2)}ff`,
    });
  });

  it('never interleave, whichever generators made them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1, max: 256 }), (a, b) => {
        const now = () => 1_780_000_000_000;
        const left = runIds(new EventIdGenerator({ now }).next(), a);
        const right = runIds(new EventIdGenerator({ now }).next(), b);
        const [low, high] = (left[0] as string) < (right[0] as string) ? [left, right] : [right, left];
        expect((low.at(-1) as string) < (high[0] as string)).toBe(true);
      }),
    );
  });

  it('hold 1 to 256 ids', () => {
    const base = new EventIdGenerator().next();
    expect(() => runIds(base, 0)).toThrow('a run holds 1 to 256 ids');
    expect(() => runIds(base, 257)).toThrow('a run holds 1 to 256 ids');
  });
});

describe('segments', () => {
  it('give back every event with its id, type, data and partition key, in order', () => {
    const entries = Array.from({ length: 100 }, (_, index) => orderEntry(index));
    const { ids, item } = itemOf(entries);
    const decoded = decodeSegment('orders', item);
    expect(decoded.map(({ event }) => event.id)).toEqual(ids);
    decoded.forEach(({ event }, index) => {
      const entry = entries[index] as SegmentEntry;
      expect(event).toMatchObject({ stream: 'orders', type: entry.type, data: JSON.parse(entry.json) });
      expect(event.partitionKey).toBe(entry.partitionKey);
    });
  });

  it('compress order-like events to under 0.4 write units each in a segment of 100', () => {
    const entries = Array.from({ length: 100 }, (_, index) => orderEntry(index));
    const { item } = itemOf(entries);
    expect(item.codec?.S).toBe('br');
    const rawBytes = entries.reduce((sum, entry) => sum + entry.json.length, 0);
    expect(itemSizeBytes(item)).toBeLessThan(rawBytes / 4);
  });

  it('never store a body larger than the events, and store it as it is when compression does not help', () => {
    const random = [{ type: 'blob', json: JSON.stringify(randomBytes(3_000).toString('base64')) }];
    const randomSegment = encodeSegment(random);
    // Base64 carries 6 bits per character, so even random bytes shrink a little.
    expect(randomSegment.body.byteLength).toBeLessThanOrEqual(randomSegment.rawBytes);
    expect(decodeSegment('blobs', itemOf(random).item)[0]?.event.data).toBe(
      JSON.parse(random[0]?.json as string),
    );
    const tiny = encodeSegment([{ type: 'a', json: '1' }]);
    expect(tiny.codec).toBe('identity');
    expect(Buffer.from(tiny.body).toString()).toBe('[["a",1]]');
  });

  it('count their events per type without being opened', () => {
    const entries = Array.from({ length: 30 }, (_, index) => orderEntry(index));
    const { item } = itemOf(entries);
    expect(segmentEventCount(item, undefined)).toBe(30);
    expect(segmentEventCount(item, ['order.paid'])).toBe(10);
    expect(segmentEventCount(item, ['order.refunded'])).toBe(0);
  });

  it('read segments of any codec a reader knows', () => {
    const entries = [orderEntry(1), orderEntry(2)];
    const { item } = itemOf(entries);
    const text = Buffer.from(`[${entries.map((entry) => `[${JSON.stringify(entry.type)},${entry.json}]`)}]`);
    const deflated = { ...item, codec: { S: 'deflate-raw' }, events: { B: zlib.deflateRawSync(text) } };
    expect(decodeSegment('orders', deflated).map(({ event }) => event.data)).toEqual(
      entries.map((entry) => JSON.parse(entry.json)),
    );
  });

  it('read an item written before segments as its one event', () => {
    const id = new EventIdGenerator().next();
    const [decoded] = decodeSegment('orders', {
      pk: { S: PK },
      sk: { S: id },
      type: { S: 'order.placed' },
      data: { S: '{"orderId":"o-1"}' },
      partitionKey: { S: 'customer-1' },
    });
    expect(decoded?.event).toMatchObject({ id, type: 'order.placed', data: { orderId: 'o-1' } });
    expect(decoded?.event.partitionKey).toBe('customer-1');
  });

  it('refuse a corrupt segment with an error that names it and what is wrong', () => {
    const { ids, item } = itemOf([orderEntry(1), orderEntry(2)]);
    const cases = [
      { ...item, events: { B: new Uint8Array([1, 2, 3]) } },
      { ...item, codec: { S: 'lz4' } },
      { ...item, codec: { S: 'identity' }, events: { B: Buffer.from('[["a",1]]') } },
      { ...item, codec: { S: 'identity' }, events: { B: Buffer.from('not json') } },
    ];
    for (const corrupt of cases) {
      expect(() => decodeSegment('orders', corrupt)).toThrow(CorruptEventError);
      expect(() => decodeSegment('orders', corrupt)).toThrow(`the segment ending at ${ids[1]}`);
    }
    expect(() => decodeSegment('orders', cases[1] as typeof item)).toThrow("codec 'lz4'");
  });
});
