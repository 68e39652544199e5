import { describe, expect, it } from 'vitest';
import {
  decodeSegment,
  encodeSegment,
  type SegmentEntry,
  segmentItem,
  storedSegmentOf,
} from '../../lib/event-log/segment';
import type { StoredEvent } from '../../lib/event-log/types';
import { packEvents } from '../../lib/fetcher/packing';
import { MalformedMessageError, parseEnvelope, segmentBody } from '../../lib/messages/envelope';
import { EventIdGenerator, runIds } from '../../lib/time/event-id';
import { incompressibleText } from '../support/order-events';

const PK = 'e#orders#20261205090000#0';
const ids = new EventIdGenerator();

function orderEntries(count: number, partitionKey?: (index: number) => string): SegmentEntry[] {
  return Array.from({ length: count }, (_, index) => ({
    type: index % 3 === 0 ? 'order.paid' : 'order.placed',
    json: JSON.stringify({
      orderId: `ord_${(index * 7919).toString(36)}`,
      customer: { name: `Customer ${index % 17}`, email: `customer${index % 17}@example.com` },
      total: ((index * 13) % 20_000) / 100,
    }),
    ...(partitionKey ? { partitionKey: partitionKey(index) } : {}),
  }));
}

/** A segment as the log stores it, its events as a read returns them, and its stored form. */
function storedSegment(entries: readonly SegmentEntry[]) {
  const eventIds = runIds(ids.next(), entries.length);
  const item = segmentItem(PK, eventIds, entries, encodeSegment(entries), undefined);
  const events = decodeSegment('orders', item).map(({ event }) => event);
  const segment = storedSegmentOf(item);
  if (!segment) throw new Error('expected a compressed segment');
  return { events, segment };
}

/** Events from before segments: one item each, not forwardable. */
function plainEvents(count: number): StoredEvent[] {
  return Array.from({ length: count }, () => {
    const id = ids.next();
    return { id, stream: 'orders', type: 'order.placed', time: new Date(), data: { id } };
  });
}

describe('a segment forwarded as stored', () => {
  it('reads back as the events the log holds, ids and partition keys included', () => {
    const { events, segment } = storedSegment(orderEntries(100, (index) => `customer-${index % 7}`));
    const body = segmentBody({ pipeline: 'billing', stream: 'orders', epoch: 3 }, segment);
    const envelope = parseEnvelope(body, 'm-1');
    expect(envelope).toMatchObject({ sluice: 2, pipeline: 'billing', stream: 'orders', epoch: 3 });
    expect(envelope.events).toEqual(
      events.map(({ id, type, data, partitionKey }) => ({
        id,
        type,
        data,
        ...(partitionKey === undefined ? {} : { partitionKey }),
      })),
    );
    expect(JSON.parse(body)).toMatchObject({ codec: 'br', segment: segment.lastId });
  });

  it('is refused as malformed when its count does not match the id it names', () => {
    const { segment } = storedSegment(orderEntries(3));
    const wrongId = `${segment.lastId.slice(0, -2)}05`;
    const body = segmentBody({ pipeline: 'billing', stream: 'orders' }, { ...segment, lastId: wrongId });
    expect(() => parseEnvelope(body, 'm-2')).toThrow(MalformedMessageError);
    expect(() => parseEnvelope(body, 'm-2')).toThrow(/its segment should hold 6 events/);
  });
});

describe('packEvents with the page’s segments', () => {
  it('sends a full segment as stored, in a message of its own, and packs the events around it', () => {
    const before = plainEvents(5);
    const { events, segment } = storedSegment(orderEntries(100));
    const after = plainEvents(5);
    const messages = packEvents('billing', 'orders', [...before, ...events, ...after], {}, [segment]);
    expect(messages).toHaveLength(3);
    const forwarded = messages[1];
    expect(JSON.parse(forwarded?.body ?? '{}')).toMatchObject({ segment: segment.lastId });
    expect(forwarded?.eventIds).toEqual(events.map((event) => event.id));
    const delivered = messages.flatMap((message) =>
      parseEnvelope(message.body).events.map((event) => event.id),
    );
    expect(delivered).toEqual([...before, ...events, ...after].map((event) => event.id));
  });

  it('packs small segments many to a message instead of one message each', () => {
    const small = Array.from({ length: 10 }, () => storedSegment(orderEntries(3)));
    const messages = packEvents(
      'billing',
      'orders',
      small.flatMap(({ events }) => events),
      {},
      small.map(({ segment }) => segment),
    );
    expect(messages).toHaveLength(1);
    expect(JSON.parse(messages[0]?.body ?? '{}').segment).toBeUndefined();
  });

  it('does not forward a segment over maxEventsPerMessage or maxMessageBytes', () => {
    const { events, segment } = storedSegment(orderEntries(100));
    const byCount = packEvents('billing', 'orders', events, { maxEventsPerMessage: 50 }, [segment]);
    expect(byCount.map((message) => message.eventIds.length)).toEqual([50, 50]);
    const bulky = storedSegment(
      Array.from({ length: 60 }, (_, index) => ({
        type: 't',
        json: JSON.stringify(incompressibleText(1_500, index + 1)),
      })),
    );
    const bySize = packEvents('billing', 'orders', bulky.events, {}, [bulky.segment]);
    expect(bySize.length).toBeGreaterThan(1);
    for (const message of bySize) expect(JSON.parse(message.body).segment).toBeUndefined();
  });

  it('does not forward a segment whose events are only partly in the page', () => {
    const { events, segment } = storedSegment(orderEntries(100));
    const messages = packEvents('billing', 'orders', events.slice(1), {}, [segment]);
    for (const message of messages) expect(JSON.parse(message.body).segment).toBeUndefined();
    expect(messages.flatMap((message) => message.eventIds)).toEqual(events.slice(1).map((event) => event.id));
  });

  it('on a FIFO queue, forwards a segment of one message group only, with a stable deduplication id', () => {
    const oneGroup = storedSegment(orderEntries(100, () => 'customer-1'));
    const [forwarded, ...rest] = packEvents('billing', 'orders', oneGroup.events, { fifo: true }, [
      oneGroup.segment,
    ]);
    expect(rest).toHaveLength(0);
    expect(forwarded).toMatchObject({ groupId: 'customer-1' });
    expect(JSON.parse(forwarded?.body ?? '{}').segment).toBe(oneGroup.segment.lastId);
    const again = packEvents('billing', 'orders', oneGroup.events, { fifo: true }, [oneGroup.segment]);
    expect(again[0]?.deduplicationId).toBe(forwarded?.deduplicationId);

    const mixed = storedSegment(orderEntries(100, (index) => `customer-${index % 2}`));
    const split = packEvents('billing', 'orders', mixed.events, { fifo: true }, [mixed.segment]);
    expect(split.map((message) => message.groupId).sort()).toEqual(['customer-0', 'customer-1']);
    for (const message of split) expect(JSON.parse(message.body).segment).toBeUndefined();
  });
});
