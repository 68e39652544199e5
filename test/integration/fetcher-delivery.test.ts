import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventInput, positionAfterEvent, positionAtTime } from '../../lib';
import { InvalidDefinitionError } from '../../lib/errors';
import { queueDepth } from '../../lib/fetcher/queue-depth';
import { PIPELINE_OUTCOME } from '../../lib/fetcher/types';
import { eventIdToEpochMs } from '../../lib/time/event-id';
import { comparePositions, formatPosition, isDeliveredAt } from '../../lib/time/position';
import { timeBucketOf } from '../../lib/time/time-bucket';
import { steppingIdGenerator } from '../support/fixtures';
import { createPipelineFixture, drainQueue, receivedEventIds } from '../support/pipeline-fixture';

const HOUR = 3_600_000;

async function commitAll(
  log: ReturnType<Awaited<ReturnType<typeof createPipelineFixture>>['eventLog']>,
  inputs: EventInput[],
) {
  const ids: string[] = [];
  for (let start = 0; start < inputs.length; start += 100)
    ids.push(...(await log.commit(inputs.slice(start, start + 100))));
  return ids;
}

describe('fetcher, historical mode on a FIFO queue', () => {
  let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;
  let ids: string[];
  let keys: Map<string, string>;
  beforeAll(async () => {
    fixture = await createPipelineFixture({ fifo: true });
    // 10,000 events, a commit of 100 every 21 minutes from 2 days ago: 35 hourly buckets.
    const start = Date.now() - 48 * HOUR;
    const log = fixture.eventLog({
      idGenerator: steppingIdGenerator(start, () => 1_260_000),
      streams: { [fixture.stream]: { writeShards: 3 } },
    });
    const inputs = Array.from({ length: 10_000 }, (_, index) => ({
      stream: fixture.stream,
      type: 'reading',
      data: { index },
      partitionKey: `sensor-${index % 12}`,
    }));
    ids = await commitAll(log, inputs);
    keys = new Map(ids.map((id, index) => [id, (inputs[index] as { partitionKey: string }).partitionKey]));
  }, 120_000);
  afterAll(() => fixture.drop());

  it('sends 10,000 events over 30+ buckets exactly once, in order per partition key, and checkpoints past the last', async () => {
    expect(new Set(ids.map((id) => timeBucketOf(eventIdToEpochMs(id)))).size).toBeGreaterThanOrEqual(30);
    await fixture.store.putPipeline(
      fixture.pipeline({ name: 'history', stream: fixture.stream, pageSize: 1000 }),
    );
    const fetcher = fixture.fetcher({ source: fixture.eventLog() });

    const summary = await fetcher.run({ budgetMs: 50_000, untilCaughtUp: true });
    const received = await drainQueue(fixture.sqs, fixture.queue.queueUrl);

    const delivered = receivedEventIds(received);
    expect(delivered.length).toBe(10_000);
    expect(new Set(delivered)).toEqual(new Set(ids));
    const byKey = new Map<string, string[]>();
    for (const id of delivered)
      byKey.set(keys.get(id) as string, [...(byKey.get(keys.get(id) as string) ?? []), id]);
    for (const sequence of byKey.values()) expect(sequence).toEqual([...sequence].sort());
    for (const message of received) {
      expect(new Set(message.envelope.events.map((event) => keys.get(event.id)))).toEqual(
        new Set([message.groupId]),
      );
    }
    const state = await fixture.store.getState('history');
    expect(isDeliveredAt(state!.position, ids.at(-1) as string)).toBe(true);
    expect(summary.pipelines.history).toMatchObject({
      outcome: PIPELINE_OUTCOME.finished,
      counts: { eventsSent: 10_000 },
    });
    console.log(
      `historical FIFO: 10,000 events in ${summary.pipelines.history?.counts.messagesSent} messages, ${summary.pipelines.history?.counts.pages} pages, ${summary.pipelines.history?.durationMs} ms`,
    );
  });
});

describe('fetcher on a standard queue', () => {
  let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;
  let ids: string[];
  const kilobyte = 'x'.repeat(1_000);
  beforeAll(async () => {
    fixture = await createPipelineFixture();
    const log = fixture.eventLog({
      idGenerator: steppingIdGenerator(Date.now() - 10 * HOUR, () => 2_000_000),
    });
    ids = await commitAll(
      log,
      Array.from({ length: 1_000 }, (_, index) => ({
        stream: fixture.stream,
        type: index % 4 === 0 ? 'audit' : 'order',
        data: { index, pad: kilobyte },
      })),
    );
  }, 60_000);
  afterAll(() => fixture.drop());

  it('packs 1 KB events into messages just under 64 KB, each event keeping its id', async () => {
    await fixture.store.putPipeline(fixture.pipeline({ name: 'packed', stream: fixture.stream }));
    const summary = await fixture
      .fetcher({ source: fixture.eventLog(), pipelines: ['packed'] })
      .run({ budgetMs: 30_000, untilCaughtUp: true });
    const received = await drainQueue(fixture.sqs, fixture.queue.queueUrl);
    const sizes = received.map((message) => Buffer.byteLength(message.body));
    const perMessage = received.map((message) => message.envelope.events.length);
    expect(new Set(receivedEventIds(received))).toEqual(new Set(ids));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(65_000);
    // Each page of 500 is packed on its own: about 60 events fill a message, so 1,000 events need 18.
    expect(received.length).toBeLessThanOrEqual(20);
    expect(Math.max(...perMessage)).toBeGreaterThan(50);
    console.log(
      `packing: ${ids.length} events of ~1 KB in ${received.length} messages, ${(ids.length / received.length).toFixed(1)} events and ${Math.round(sizes.reduce((a, b) => a + b, 0) / received.length)} bytes per message; ${summary.pipelines.packed?.counts.messagesSent} sent`,
    );
  });

  it('sends one event per message when asked, and only the subscribed types', async () => {
    await fixture.store.putPipeline(
      fixture.pipeline({
        name: 'single',
        stream: fixture.stream,
        maxEventsPerMessage: 1,
        eventTypes: ['audit'],
      }),
    );
    await fixture
      .fetcher({ source: fixture.eventLog(), pipelines: ['single'] })
      .run({ budgetMs: 30_000, untilCaughtUp: true });
    const received = await drainQueue(fixture.sqs, fixture.queue.queueUrl);
    expect(received.every((message) => message.envelope.events.length === 1)).toBe(true);
    expect(receivedEventIds(received).sort()).toEqual(ids.filter((_, index) => index % 4 === 0));
  });

  it('stops a bounded run at stopAt and marks the pipeline completed', async () => {
    const stopAt = positionAtTime(eventIdToEpochMs(ids[600] as string));
    await fixture.store.putPipeline(
      fixture.pipeline({
        name: 'bounded',
        stream: fixture.stream,
        stopAt: { position: formatPosition(stopAt) },
      }),
    );
    const first = await fixture
      .fetcher({ source: fixture.eventLog(), pipelines: ['bounded'] })
      .run({ budgetMs: 30_000, untilCaughtUp: true });
    const received = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));
    expect(received.sort()).toEqual(ids.slice(0, 600));
    expect(first.pipelines.bounded?.outcome).toBe(PIPELINE_OUTCOME.completed);
    expect((await fixture.store.getState('bounded'))?.status).toBe('completed');
    const second = await fixture
      .fetcher({ source: fixture.eventLog(), pipelines: ['bounded'] })
      .run({ budgetMs: 5_000, untilCaughtUp: true });
    expect(second.pipelines.bounded?.outcome).toBe(PIPELINE_OUTCOME.alreadyCompleted);
  });

  it('seeks: moves the checkpoint back on purpose, records it, and the next run replays from there', async () => {
    const state = await fixture.store.getState('bounded');
    const target = positionAfterEvent(ids[499] as string);
    await fixture.store.seek('bounded', target, {
      stopAt: positionAfterEvent(ids[549] as string),
      reason: 'replay 50 events',
    });
    const [seek] = await fixture.store.listSeeks('bounded');
    expect(seek).toMatchObject({
      from: formatPosition(state!.position),
      to: formatPosition(target),
      reason: 'replay 50 events',
    });
    await fixture
      .fetcher({ source: fixture.eventLog(), pipelines: ['bounded'] })
      .run({ budgetMs: 30_000, untilCaughtUp: true });
    const replayed = await drainQueue(fixture.sqs, fixture.queue.queueUrl);
    expect(receivedEventIds(replayed).sort()).toEqual(ids.slice(500, 550));
    // The seek raised the pipeline's epoch, so a worker handles these again rather than skip them.
    expect((await fixture.store.getState('bounded'))?.epoch).toBe(1);
    expect(replayed.every((message) => message.envelope.epoch === 1)).toBe(true);
  });

  it('stops a run that must return once caught up at bufferSize messages; the next run resumes', async () => {
    await fixture.store.putPipeline(
      fixture.pipeline({
        name: 'slow-worker',
        stream: fixture.stream,
        maxEventsPerMessage: 1,
        bufferSize: 25,
        pageSize: 40,
      }),
    );
    const fetcher = fixture.fetcher({ source: fixture.eventLog(), pipelines: ['slow-worker'] });
    const delivered: string[] = [];
    let runs = 0;
    while (delivered.length < ids.length && runs < 80) {
      const summary = await fetcher.run({ budgetMs: 10_000, untilCaughtUp: true });
      runs += 1;
      const received = await drainQueue(fixture.sqs, fixture.queue.queueUrl, 1);
      expect(received.length).toBeLessThanOrEqual(25);
      if (delivered.length + received.length < ids.length)
        expect(summary.pipelines['slow-worker']?.stopReason).toMatch(/backpressure/);
      delivered.push(...receivedEventIds(received));
    }
    expect(delivered.sort()).toEqual(ids);
    expect(runs).toBe(Math.ceil(ids.length / 25));
  });

  it('pauses a scheduled run at bufferSize messages and resumes it as soon as the worker makes room', async () => {
    // Prepare: a consumer that drains the queue slowly while one scheduled run works the pipeline.
    await fixture.store.putPipeline(
      fixture.pipeline({
        name: 'paused-worker',
        stream: fixture.stream,
        maxEventsPerMessage: 1,
        bufferSize: 100,
        pageSize: 100,
      }),
    );
    const fetcher = fixture.fetcher({ source: fixture.eventLog(), pipelines: ['paused-worker'] });
    const delivered: string[] = [];
    let deepest = 0;
    let running = true;
    const consumer = (async () => {
      while (running || delivered.length < ids.length) {
        deepest = Math.max(deepest, await queueDepth(fixture.sqs, fixture.queue.queueUrl));
        const received = await drainQueue(fixture.sqs, fixture.queue.queueUrl, 1);
        delivered.push(...receivedEventIds(received));
        if (!running && received.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();

    // Act: one run, not caught-up-and-return, with time enough (about five times what it needs) for the consumer to drain ten buffers.
    const summary = await fetcher.run({ budgetMs: 15_000 });
    running = false;
    await consumer;

    // Assess: every event in one run, the queue never past bufferSize, and the run said it paused.
    expect(summary.pipelines['paused-worker']?.counts.eventsSent).toBe(ids.length);
    expect(delivered.sort()).toEqual(ids);
    expect(deepest).toBeLessThanOrEqual(100);
  }, 90_000);

  it('rejects an invalid pipeline with every problem named, and a missing queue fails only its own pipeline', async () => {
    await expect(
      fixture.store.putPipeline({
        name: 'bad name',
        stream: 'orders#1',
        queueUrl: 'not a url',
        bufferSize: 0,
      } as never),
    ).rejects.toMatchObject({ constructor: InvalidDefinitionError, definition: 'pipeline' });
    await expect(
      fixture.store.putPipeline({ name: 'x', stream: 'y', queueUrl: fixture.queue.queueUrl, bufferSize: 0 }),
    ).rejects.toThrow(/bufferSize: .* \(given 0\)/);
    const missingQueue = fixture.queue.queueUrl.replace(/\/[^/]+$/, '/does-not-exist');
    await fixture.store.putPipeline({
      name: 'lost',
      stream: fixture.stream,
      queueUrl: missingQueue,
      start: 'earliest',
    });
    await fixture.store.putPipeline(fixture.pipeline({ name: 'fine', stream: fixture.stream }));
    const summary = await fixture
      .fetcher({ source: fixture.eventLog(), pipelines: ['lost', 'fine'] })
      .run({ budgetMs: 20_000, untilCaughtUp: true });
    expect(summary.pipelines.lost?.outcome).toBe(PIPELINE_OUTCOME.failed);
    expect(summary.pipelines.lost?.error?.message).toMatch(/does-not-exist/);
    const [run] = await fixture.store.listRuns('lost', 1);
    expect(run).toMatchObject({
      status: 'failed',
      error: { message: expect.stringMatching(/does-not-exist/) },
    });
    expect(summary.pipelines.fine?.counts.eventsSent).toBe(ids.length);
    expect((await fixture.store.getState('lost'))?.position).toEqual({ timeBucket: '19700101000000' });
    await drainQueue(fixture.sqs, fixture.queue.queueUrl);
  });
});

describe('fetcher, live mode', () => {
  let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;
  beforeAll(async () => {
    fixture = await createPipelineFixture();
  });
  afterAll(() => fixture.drop());

  it('tails the live edge within one run, and moves over quiet hours', async () => {
    const source = fixture.eventLog({ settleWindowMs: 300, commitDeadlineMs: 200 });
    const producer = fixture.eventLog({ settleWindowMs: 300, commitDeadlineMs: 200 });
    const before = await producer.commit({ stream: fixture.stream, type: 'before-start', data: {} });
    // Ids are held to DynamoDB's clock, known to within its Date header's second: an event committed
    // just before 'latest' may lie after it. Wait past that bound so that 'before' is plainly before.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await fixture.store.putPipeline(
      fixture.pipeline({ name: 'live', stream: fixture.stream, start: 'latest' }),
    );
    const run = fixture.fetcher({ source, pollIntervalMs: 50 }).run({ budgetMs: 6_000 });
    const committed: string[] = [];
    for (let index = 0; index < 20; index += 1) {
      committed.push(await producer.commit({ stream: fixture.stream, type: 'live', data: { index } }));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const summary = await run;
    const received = await drainQueue(fixture.sqs, fixture.queue.queueUrl);
    const delivered = receivedEventIds(received);
    expect(delivered.sort()).toEqual(committed);
    expect(delivered).not.toContain(before);
    const latencies = received.flatMap((message) =>
      message.envelope.events.map((event) => message.sentTimestamp - eventIdToEpochMs(event.id)),
    );
    latencies.sort((a, b) => a - b);
    console.log(
      `live tailing (settle window 300 ms, poll 50 ms): commit-to-queue latency p50 ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies.at(-1)} ms over ${latencies.length} events`,
    );
    const state = await fixture.store.getState('live');
    expect(
      comparePositions(state!.position, positionAfterEvent(committed.at(-1) as string)),
    ).toBeGreaterThanOrEqual(0);
    expect(summary.pipelines.live?.outcome).toBe(PIPELINE_OUTCOME.finished);
  });
});
