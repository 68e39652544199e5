import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type EventLog, positionAfterEvent, positionAtTime } from '../../lib';
import {
  BACKFILL_EVENTS,
  type BackfillBusEntry,
  type BackfillCompletedDetail,
  backfillProgress,
  emitCompletedBackfills,
  handleBackfillRequested,
  parseBackfillRequest,
  registerBackfill,
} from '../../lib/backfill';
import { attachBackfills } from '../../lib/backfill/local';
import { ConflictError, InvalidDefinitionError, MissingResourceError } from '../../lib/errors';
import { type BusEvent, LocalEventBus } from '../../lib/local';
import { eventIdToEpochMs } from '../../lib/time/event-id';
import { formatPosition } from '../../lib/time/position';
import { createQueueWithDeadLetterQueue, uniqueName } from '../support/aws';
import { steppingIdGenerator } from '../support/fixtures';
import { createPipelineFixture, drainQueue, receivedEventIds } from '../support/pipeline-fixture';
import { waitFor } from '../support/wait-for';

let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;
let log: EventLog;
/** Ten events a minute apart, two hours ago, alternately placed and paid. */
let ids: string[];

beforeAll(async () => {
  fixture = await createPipelineFixture();
  log = fixture.eventLog({ idGenerator: steppingIdGenerator(Date.now() - 2 * 3_600_000, () => 60_000) });
  ids = await log.commitBatched(
    Array.from({ length: 10 }, (_, n) => ({
      stream: fixture.stream,
      type: n % 2 === 0 ? 'order.placed' : 'order.paid',
      data: { n },
    })),
    { concurrency: 1 },
  );
});
afterAll(() => fixture.drop());

const timeOf = (id: string | undefined) => new Date(eventIdToEpochMs(id as string)).toISOString();

/** A source pipeline of placed orders, live from now, on the fixture's queue or the one given. */
async function sourcePipeline(queueUrl = fixture.queue.queueUrl): Promise<string> {
  const name = uniqueName('billing');
  await fixture.store.putPipeline(
    fixture.pipeline({
      name,
      stream: fixture.stream,
      eventTypes: ['order.placed'],
      start: 'latest',
      queueUrl,
    }),
  );
  return name;
}

/** A bus that records every "Backfill Completed" event put on it. */
function recordingBus() {
  const bus = new LocalEventBus();
  const completed: BusEvent<BackfillCompletedDetail>[] = [];
  bus.putRule({
    name: 'completed',
    eventPattern: { source: [BACKFILL_EVENTS.source], 'detail-type': [BACKFILL_EVENTS.completed] },
    targets: [
      (event) => {
        completed.push(event as BusEvent<BackfillCompletedDetail>);
      },
    ],
  });
  return { bus, completed };
}

describe('registerBackfill', () => {
  it('runs a bounded copy of the pipeline into its queue, completes, and announces it once', async () => {
    // Prepare
    const pipeline = await sourcePipeline();
    const { bus, completed } = recordingBus();
    const registered = await registerBackfill(fixture.store, {
      pipeline,
      from: timeOf(ids[2]),
      to: timeOf(ids[7]),
      backfillId: 'b1',
    });
    const before = await backfillProgress(fixture.store, log, registered.backfillPipeline);

    // Act
    const summary = await fixture
      .fetcher({ source: log, pipelines: [registered.backfillPipeline] })
      .run({ untilCaughtUp: true, budgetMs: 20_000 });
    const options = {
      client: fixture.dynamodb,
      putEvents: (entries: readonly BackfillBusEntry[]) => bus.putEvents(entries),
    };
    const emitted = await Promise.all([
      emitCompletedBackfills(fixture.store, { ...options, pipeline }),
      emitCompletedBackfills(fixture.store, { ...options, pipeline }),
      emitCompletedBackfills(fixture.store, { ...options, pipeline }),
    ]);
    const again = await emitCompletedBackfills(fixture.store, { ...options, pipeline });
    await bus.idle();
    const after = await backfillProgress(fixture.store, log, registered.backfillPipeline);

    // Assess
    expect(registered).toMatchObject({
      pipeline,
      backfillId: 'b1',
      backfillPipeline: `${pipeline}.backfill.b1`,
      from: positionAtTime(new Date(timeOf(ids[2]))),
      stopAt: positionAtTime(new Date(timeOf(ids[7]))),
      created: true,
    });
    expect(await fixture.store.getPipeline(registered.backfillPipeline)).toMatchObject({
      stream: fixture.stream,
      eventTypes: ['order.placed'],
      queueUrl: fixture.queue.queueUrl,
      enabled: true,
    });
    expect(before).toMatchObject({ status: 'running', fraction: 0, eventsTotal: 3, eventsSent: 0 });
    expect(before.etaMs).toBeUndefined();
    expect(summary.pipelines[registered.backfillPipeline]?.outcome).toBe('completed');
    expect(receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl))).toEqual([
      ids[2],
      ids[4],
      ids[6],
    ]);
    expect(emitted.flat()).toHaveLength(1);
    expect(again).toEqual([]);
    expect(completed).toHaveLength(1);
    expect(completed[0]?.detail).toEqual({
      pipeline,
      backfillId: 'b1',
      backfillPipeline: registered.backfillPipeline,
      from: formatPosition(registered.from),
      to: formatPosition(registered.stopAt),
      eventsSent: 3,
    });
    expect(after).toMatchObject({
      status: 'completed',
      fraction: 1,
      eventsTotal: 3,
      eventsSent: 3,
      etaMs: 0,
    });
  });

  it('takes positions, delivering the events after from and up to to', async () => {
    // Prepare
    const pipeline = await sourcePipeline();
    const from = formatPosition(positionAfterEvent(ids[2] as string));
    const to = formatPosition(positionAfterEvent(ids[6] as string));

    // Act
    const registered = await registerBackfill(fixture.store, { pipeline, from, to });
    const progress = await backfillProgress(fixture.store, log, registered.backfillPipeline);
    await fixture
      .fetcher({ source: log, pipelines: [registered.backfillPipeline] })
      .run({ untilCaughtUp: true, budgetMs: 20_000 });

    // Assess
    expect(registered.backfillId).toMatch(/^[0-9a-f]{8}$/);
    expect(progress.eventsTotal).toBe(2);
    expect(receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl))).toEqual([ids[4], ids[6]]);
    expect((await fixture.store.getState(registered.backfillPipeline))?.status).toBe('completed');
  });

  it('returns the same backfill for a repeated request with the same backfill id', async () => {
    // Prepare
    const pipeline = await sourcePipeline();
    const request = { pipeline, from: timeOf(ids[0]), to: timeOf(ids[3]), backfillId: 'same' };

    // Act
    const first = await registerBackfill(fixture.store, request);
    const second = await registerBackfill(fixture.store, request);

    // Assess
    expect(first.created).toBe(true);
    expect(second).toEqual({ ...first, created: false });
    const { pipelines } = await fixture.store.listPipelines();
    expect(pipelines.filter((p) => p.name === first.backfillPipeline)).toHaveLength(1);
  });

  it('fails when a backfill id is reused for another range', async () => {
    const pipeline = await sourcePipeline();
    await registerBackfill(fixture.store, {
      pipeline,
      from: timeOf(ids[0]),
      to: timeOf(ids[3]),
      backfillId: 'x',
    });

    await expect(
      registerBackfill(fixture.store, {
        pipeline,
        from: timeOf(ids[1]),
        to: timeOf(ids[3]),
        backfillId: 'x',
      }),
    ).rejects.toMatchObject({ constructor: ConflictError, kind: 'backfill-id-taken' });
  });

  it('fails when the pipeline is not registered', async () => {
    await expect(
      registerBackfill(fixture.store, { pipeline: 'ghost', from: timeOf(ids[0]), to: timeOf(ids[3]) }),
    ).rejects.toMatchObject({ constructor: MissingResourceError, resource: 'pipeline' });
  });
});

describe('parseBackfillRequest', () => {
  it('fails when from lies after to, naming both', () => {
    const request = { pipeline: 'billing', from: '2024-05-02T00:00:00Z', to: '2024-05-01T00:00:00Z' };

    expect(() => parseBackfillRequest(request)).toThrow(
      expect.objectContaining({ constructor: InvalidDefinitionError, definition: 'backfill request' }),
    );
    expect(() => parseBackfillRequest(request)).toThrow(
      'from "2024-05-02T00:00:00Z" lies after to "2024-05-01T00:00:00Z"',
    );
  });

  it.each([
    { name: 'fails when a field is unknown', detail: { stopAt: 'x' }, message: "unknown field(s) 'stopAt'" },
    {
      name: 'fails when from is no time or position',
      detail: { from: 'yesterday' },
      message: 'from: expected',
    },
    {
      name: 'fails when a position is not at the start of an hour',
      detail: { to: '20240501123000' },
      message: 'to: invalid position',
    },
    {
      name: 'fails when the time has no zone',
      detail: { from: '2024-05-01T00:00:00' },
      message: '2024-05-01T00:00:00',
    },
    { name: 'fails when the backfill id is malformed', detail: { backfillId: 'a b' }, message: 'backfillId' },
    { name: 'fails when the pipeline is missing', detail: { pipeline: undefined }, message: 'pipeline:' },
  ])('$name', ({ detail, message }) => {
    const request = { pipeline: 'billing', from: '2024-05-01T00:00:00Z', to: '20240502000000', ...detail };

    expect(() => parseBackfillRequest(request)).toThrow(message);
  });
});

describe('handleBackfillRequested', () => {
  it('fails when the event is not a backfill request', async () => {
    await expect(
      handleBackfillRequested(
        { source: 'shop', 'detail-type': 'Order Paid', detail: {} },
        { store: fixture.store },
      ),
    ).rejects.toThrow(`expected an event of source 'sluice' and detail-type 'Backfill Requested'`);
  });
});

describe('attachBackfills', () => {
  it('registers requests from the bus, fetches them and announces their completion', async () => {
    // Prepare
    const { queueUrl } = await createQueueWithDeadLetterQueue(fixture.sqs);
    const pipeline = await sourcePipeline(queueUrl);
    const { bus, completed } = recordingBus();
    const backfills = attachBackfills(
      {
        bus,
        store: fixture.store,
        eventLog: log,
        queueUrl,
        endpoints: { dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') },
      },
      { intervalMs: 100 },
    );

    try {
      // Act
      await bus.putEvents([
        {
          source: BACKFILL_EVENTS.source,
          detailType: BACKFILL_EVENTS.requested,
          detail: { pipeline, from: timeOf(ids[0]), to: timeOf(ids[9]), backfillId: 'bus' },
        },
      ]);
      await bus.idle();
      await waitFor('Backfill Completed', () => completed.length > 0);
      await new Promise((resolve) => setTimeout(resolve, 500));

      // Assess
      expect(completed).toHaveLength(1);
      expect(completed[0]?.detail).toMatchObject({ pipeline, backfillId: 'bus', eventsSent: 5 });
      expect(receivedEventIds(await drainQueue(fixture.sqs, queueUrl))).toEqual(
        [0, 2, 4, 6, 8].map((n) => ids[n]),
      );
      expect(backfills.stats()).toMatchObject({ requested: 1, completed: 1, errors: 0 });
    } finally {
      await backfills.stop();
    }
  });
});
