import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventLog, positionAfterEvent, positionAtTime } from '../../lib';
import { parseEnvelope, segmentBody } from '../../lib/messages/envelope';
import { createStreamTable, dynamodbClient, uniqueName } from '../support/aws';
import { eventLogFor, steppingIdGenerator } from '../support/fixtures';
import { orderEvents } from '../support/order-events';
import { createPipelineFixture, drainMessages } from '../support/pipeline-fixture';

const dynamodb = dynamodbClient();
const HOUR = 3_600_000;
let table: Awaited<ReturnType<typeof createStreamTable>>;
let log: EventLog;
let stream: string;
/** A commit of 100 orders, then three commits of one, then a commit of 40 of two types. */
let big: string[];
let singles: string[];
let mixed: string[];

beforeAll(async () => {
  table = await createStreamTable(dynamodb);
  stream = uniqueName('orders');
  log = eventLogFor(dynamodb, table.name, {
    idGenerator: steppingIdGenerator(Date.now() - 2 * HOUR, () => 1_000),
  });
  const orders = orderEvents(140, 11).map((order) => order.data);
  big = await log.commit(orders.slice(0, 100).map((data) => ({ stream, type: 'order.placed', data })));
  singles = [];
  for (const data of orders.slice(100, 103))
    singles.push(...(await log.commit([{ stream, type: 'order.placed', data }])));
  mixed = await log.commit(
    orders
      .slice(103, 140)
      .map((data, index) => ({ stream, type: index % 2 ? 'order.paid' : 'order.placed', data })),
  );
});
afterAll(() => table.drop());

describe('EventLog.readAfter names the segments a page holds whole', () => {
  it('gives each compressed segment read whole as stored, and it reads back as the page’s events', async () => {
    const page = await log.readAfter(stream, positionAtTime(Date.now() - 3 * HOUR), { limit: 500 });
    expect(page.events.map((event) => event.id)).toEqual([...big, ...singles, ...mixed]);
    const lastIds = (page.segments ?? []).map((segment) => segment.lastId);
    expect(lastIds).toEqual([big.at(-1), ...singles, mixed.at(-1)]);
    const [first] = page.segments ?? [];
    expect(first?.count).toBe(100);
    const forwarded = parseEnvelope(segmentBody({ pipeline: 'p', stream }, first as never)).events;
    expect(forwarded.map((event) => event.id)).toEqual(big);
    expect(forwarded.map((event) => event.data)).toEqual(
      page.events.slice(0, 100).map((event) => event.data),
    );
  });

  it('leaves out a segment the page holds only part of: one the position is inside, or the limit cuts', async () => {
    const inside = await log.readAfter(stream, positionAfterEvent(big[9] as string), { limit: 500 });
    expect(inside.events[0]?.id).toBe(big[10]);
    expect((inside.segments ?? []).map((segment) => segment.lastId)).toEqual([...singles, mixed.at(-1)]);
    const cut = await log.readAfter(stream, positionAtTime(Date.now() - 3 * HOUR), { limit: 50 });
    expect(cut.events).toHaveLength(50);
    expect(cut.segments).toBeUndefined();
  });

  it('leaves out a segment some of whose events a type filter drops', async () => {
    const page = await log.readAfter(stream, positionAtTime(Date.now() - 3 * HOUR), {
      limit: 500,
      types: ['order.placed'],
    });
    expect(page.events.every((event) => event.type === 'order.placed')).toBe(true);
    expect((page.segments ?? []).map((segment) => segment.lastId)).toEqual([big.at(-1), ...singles]);
  });
});

describe('the fetcher forwards a segment it reads whole as stored', () => {
  it('sends a commit of 100 orders as its stored segment, packs the small commits, and every event arrives once', async () => {
    const fixture = await createPipelineFixture();
    try {
      const name = 'forwarding';
      await fixture.store.putPipeline(fixture.pipeline({ name, stream: fixture.stream }));
      const writer = fixture.eventLog({ idGenerator: steppingIdGenerator(Date.now() - HOUR, () => 1_000) });
      const orders = orderEvents(130, 5).map((order) => order.data);
      const committed = [
        ...(await writer.commit(
          orders.slice(0, 100).map((data) => ({ stream: fixture.stream, type: 'order.placed', data })),
        )),
      ];
      for (const data of orders.slice(100))
        committed.push(...(await writer.commit([{ stream: fixture.stream, type: 'order.placed', data }])));

      const summary = await fixture
        .fetcher({ source: fixture.eventLog(), pipelines: [name] })
        .run({ budgetMs: 20_000, untilCaughtUp: true });
      expect(summary.pipelines[name]).toMatchObject({ outcome: 'finished', stopReason: 'caught up' });

      const bodies = (await drainMessages(fixture.sqs, fixture.queue.queueUrl, { expected: 2 })).map(
        (message) => message.body,
      );
      const forwarded = bodies.filter((body) => JSON.parse(body).segment !== undefined);
      expect(forwarded.map((body) => JSON.parse(body).segment)).toEqual([committed[99]]);
      expect(bodies).toHaveLength(2);
      const received = bodies.flatMap((body) => parseEnvelope(body).events);
      expect(received.map((event) => event.id).sort()).toEqual([...committed].sort());
      expect(received.find((event) => event.id === committed[42])?.data).toEqual(orders[42]);
    } finally {
      await fixture.drop();
    }
  });
});
