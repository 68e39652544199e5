import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventLog } from '../../lib';
import {
  announceCompletedBackfills,
  BACKFILL_EVENTS,
  type BackfillBusEntry,
  registerBackfill,
  runRequestedBackfill,
} from '../../lib/backfill';
import { InvalidDefinitionError } from '../../lib/errors';
import { eventIdToEpochMs } from '../../lib/time/event-id';
import { uniqueName } from '../support/aws';
import { commitOneByOne, steppingIdGenerator } from '../support/fixtures';
import { createPipelineFixture, drainQueue, receivedEventIds } from '../support/pipeline-fixture';

// The backfill path as deployed on AWS: the backfill function registers the pipelines it is deployed
// for, registers the requested backfill, works it alone, and announces its completion; the scheduled
// fetcher, deployed for the same pipeline, works that pipeline's backfills too.

let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;
let log: EventLog;
/** Ten events a minute apart, two hours ago. */
let ids: string[];

beforeAll(async () => {
  fixture = await createPipelineFixture();
  log = fixture.eventLog({ idGenerator: steppingIdGenerator(Date.now() - 2 * 3_600_000, () => 60_000) });
  ids = await commitOneByOne(
    log,
    Array.from({ length: 10 }, (_, n) => ({ stream: fixture.stream, type: 'order.placed', data: { n } })),
  );
});
afterAll(() => fixture.drop());

const timeOf = (id: string | undefined) => new Date(eventIdToEpochMs(id as string)).toISOString();

/** A bus that records what is put on it, and refuses the first `refusals` calls. */
function recordingPutEvents(refusals = 0) {
  const entries: BackfillBusEntry[] = [];
  let calls = 0;
  return {
    entries,
    putEvents: async (batch: readonly BackfillBusEntry[]) => {
      calls += 1;
      if (calls <= refusals) throw new Error('bus refused the event');
      entries.push(...batch);
    },
  };
}

const request = (detail: Record<string, unknown>) => ({
  source: BACKFILL_EVENTS.source,
  'detail-type': BACKFILL_EVENTS.requested,
  detail,
});

describe('runRequestedBackfill', () => {
  it('registers the deployed pipeline, then the backfill, sends its range alone and announces it once', async () => {
    // Prepare: a fetcher deployed for a pipeline the state table does not know yet.
    const pipeline = uniqueName('billing');
    const fetcher = fixture.fetcher({
      source: log,
      pipelines: [pipeline],
      register: [fixture.pipeline({ name: pipeline, stream: fixture.stream, start: 'latest' })],
    });
    const bus = recordingPutEvents();
    const completion = { client: fixture.dynamodb, putEvents: bus.putEvents };

    // Act
    const outcome = await runRequestedBackfill(
      request({ pipeline, from: timeOf(ids[1]), to: timeOf(ids[4]), backfillId: 'deployed' }),
      { store: fixture.store, fetcher, completion },
      Date.now() + 20_000,
    );
    const announcedAgain = await announceCompletedBackfills(outcome.run, fixture.store, completion);

    // Assess
    expect(await fixture.store.getPipeline(pipeline)).toMatchObject({ name: pipeline, start: 'latest' });
    expect(outcome.backfill).toMatchObject({
      backfillPipeline: `${pipeline}.backfill.deployed`,
      created: true,
    });
    expect(Object.keys(outcome.run.pipelines)).toEqual([`${pipeline}.backfill.deployed`]);
    expect(outcome.run.pipelines[`${pipeline}.backfill.deployed`]?.outcome).toBe('completed');
    expect(receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl))).toEqual(ids.slice(1, 4));
    expect(outcome.emitted).toHaveLength(1);
    expect(announcedAgain).toEqual({ emitted: [], failures: [] });
    expect(bus.entries).toEqual([
      {
        source: BACKFILL_EVENTS.source,
        detailType: BACKFILL_EVENTS.completed,
        detail: expect.objectContaining({ pipeline, backfillId: 'deployed', eventsSent: 3 }),
      },
    ]);
  });

  it('refuses a request whose from lies after its to, before registering anything', async () => {
    // Prepare
    const pipeline = uniqueName('billing');
    const fetcher = fixture.fetcher({
      source: log,
      pipelines: [pipeline],
      register: [fixture.pipeline({ name: pipeline, stream: fixture.stream })],
    });

    // Act
    const attempt = runRequestedBackfill(
      request({ pipeline, from: timeOf(ids[5]), to: timeOf(ids[1]), backfillId: 'backwards' }),
      { store: fixture.store, fetcher },
      Date.now() + 10_000,
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({
      constructor: InvalidDefinitionError,
      definition: 'backfill request',
    });
    await expect(attempt).rejects.toThrow(/from/);
    expect(await fixture.store.getPipeline(`${pipeline}.backfill.backwards`)).toBeUndefined();
  });
});

describe('a fetcher deployed for some pipelines', () => {
  it('works their backfills too, and no other pipeline or backfill', async () => {
    // Prepare: two pipelines with a backfill each; the fetcher is deployed for the first only.
    const mine = uniqueName('mine');
    const other = uniqueName('other');
    for (const name of [mine, other])
      await fixture.store.putPipeline(fixture.pipeline({ name, stream: fixture.stream, start: 'latest' }));
    const range = { from: timeOf(ids[0]), to: timeOf(ids[9]), backfillId: 'all' };
    const ofMine = await registerBackfill(fixture.store, { pipeline: mine, ...range });
    const ofOther = await registerBackfill(fixture.store, { pipeline: other, ...range });

    // Act
    const summary = await fixture
      .fetcher({ source: log, pipelines: [mine] })
      .run({ untilCaughtUp: true, budgetMs: 20_000 });
    await drainQueue(fixture.sqs, fixture.queue.queueUrl);

    // Assess
    expect(Object.keys(summary.pipelines).sort()).toEqual([mine, ofMine.backfillPipeline].sort());
    expect(summary.pipelines[ofMine.backfillPipeline]?.counts.eventsSent).toBe(9);
    expect(summary.pipelines[ofOther.backfillPipeline]).toBeUndefined();
  });
});

describe('announceCompletedBackfills', () => {
  it('reports a refused announcement without failing, and the next call makes it', async () => {
    // Prepare
    const pipeline = uniqueName('billing');
    await fixture.store.putPipeline(fixture.pipeline({ name: pipeline, stream: fixture.stream }));
    const backfill = await registerBackfill(fixture.store, {
      pipeline,
      from: timeOf(ids[0]),
      to: timeOf(ids[2]),
      backfillId: 'retry',
    });
    const summary = await fixture
      .fetcher({ source: log, pipelines: [backfill.backfillPipeline] })
      .run({ untilCaughtUp: true, budgetMs: 20_000 });
    await drainQueue(fixture.sqs, fixture.queue.queueUrl);
    const bus = recordingPutEvents(1);
    const completion = { client: fixture.dynamodb, putEvents: bus.putEvents };

    // Act
    const first = await announceCompletedBackfills(summary, fixture.store, completion);
    const second = await announceCompletedBackfills(summary, fixture.store, completion);

    // Assess
    expect(first.emitted).toEqual([]);
    expect(first.failures.map(({ backfillPipeline }) => backfillPipeline)).toEqual([
      backfill.backfillPipeline,
    ]);
    expect(first.failures[0]?.error.message).toMatch(/bus refused the event/);
    expect(second.failures).toEqual([]);
    expect(second.emitted.map(({ backfillPipeline }) => backfillPipeline)).toEqual([
      backfill.backfillPipeline,
    ]);
    expect(bus.entries).toHaveLength(1);
  });
});
