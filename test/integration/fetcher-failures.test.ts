import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventInput, type Position, positionAfterEvent } from '../../lib';
import { ConflictError, LeaseLostError, MissingResourceError } from '../../lib/errors';
import { FETCHER_STEPS, PIPELINE_OUTCOME } from '../../lib/fetcher/types';
import { injectFaults, throttleSomeCalls } from '../../lib/testing/faults';
import { comparePositions } from '../../lib/time/position';
import { createQueueWithDeadLetterQueue, dynamodbClient, sqsClient } from '../support/aws';
import { seededRandom, sleep, steppingIdGenerator } from '../support/fixtures';
import { createPipelineFixture, drainQueue, receivedEventIds } from '../support/pipeline-fixture';

const HOUR = 3_600_000;
let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;
let ids: string[];

beforeAll(async () => {
  fixture = await createPipelineFixture();
  const log = fixture.eventLog({ idGenerator: steppingIdGenerator(Date.now() - 6 * HOUR, () => 5_000) });
  const inputs: EventInput[] = Array.from({ length: 3_000 }, (_, index) => ({
    stream: fixture.stream,
    type: 'tick',
    data: { index },
  }));
  ids = [];
  for (let start = 0; start < inputs.length; start += 100)
    ids.push(...(await log.commit(inputs.slice(start, start + 100))));
}, 120_000);
afterAll(() => fixture.drop());

describe('leases and checkpoints', () => {
  it('fences a stale writer: after its lease expires and another takes over, its writes are refused', async () => {
    await fixture.store.putPipeline(fixture.pipeline({ name: 'fenced', stream: fixture.stream }));
    const first = await fixture.store.acquireLease('fenced', 'a', 1_000);
    expect(first?.token).toBe(1);
    expect(await fixture.store.acquireLease('fenced', 'b', 1_000)).toBeUndefined();
    await sleep(1_100);
    const second = await fixture.store.acquireLease('fenced', 'b', 1_000);
    expect(second?.token).toBe(2);

    const stale = fixture.store.writeCheckpoint(first!, {
      position: positionAfterEvent(ids[10] as string),
      expectedVersion: first!.state.version,
      previous: first!.state.position,
      leaseDurationMs: 1_000,
    });
    await expect(stale).rejects.toThrow(LeaseLostError);
    await expect(fixture.store.renewLease(first!, 1_000)).rejects.toThrow(
      /token 1 is lost: another fetcher took the pipeline over \(current token 2, owner b\)/,
    );
    const version = await fixture.store.writeCheckpoint(second!, {
      position: positionAfterEvent(ids[10] as string),
      expectedVersion: second!.state.version,
      previous: second!.state.position,
      leaseDurationMs: 1_000,
    });
    const state = await fixture.store.getState('fenced');
    expect(state).toMatchObject({
      version,
      checkpointToken: 2,
      position: positionAfterEvent(ids[10] as string),
    });
  });

  it('refuses a checkpoint that moves backwards, and one written over a seek', async () => {
    const lease = (await fixture.store.acquireLease('fenced', 'b', 5_000))!;
    const back = fixture.store.writeCheckpoint(lease, {
      position: positionAfterEvent(ids[5] as string),
      expectedVersion: lease.state.version,
      previous: lease.state.position,
      leaseDurationMs: 5_000,
    });
    await expect(back).rejects.toMatchObject({ constructor: ConflictError, kind: 'checkpoint-regression' });
    await fixture.store.seek('fenced', positionAfterEvent(ids[2] as string), { reason: 'test' });
    const overSeek = fixture.store.writeCheckpoint(lease, {
      position: positionAfterEvent(ids[20] as string),
      expectedVersion: lease.state.version,
      previous: lease.state.position,
      leaseDurationMs: 5_000,
    });
    await expect(overSeek).rejects.toMatchObject({ constructor: ConflictError, kind: 'checkpoint-moved' });
    expect((await fixture.store.getState('fenced'))?.position).toEqual(positionAfterEvent(ids[2] as string));
    await fixture.store.releaseLease(lease);
  });

  it('takes a checkpoint write whose response was lost, and which the SDK retried, as written', async () => {
    await fixture.store.putPipeline(fixture.pipeline({ name: 'lost-response', stream: fixture.stream }));
    const client = dynamodbClient();
    let calls = 0;
    injectFaults(client, {
      rate: 1,
      seed: 0,
      kinds: ['timeout'],
      operations: ['UpdateItemCommand'],
      random: () => (calls++ === 0 ? 0 : 1),
    });
    const { PipelineStore } = await import('../../lib/state/pipeline-store');
    const store = new PipelineStore({ tableName: fixture.store.tableName, client });
    const lease = (await fixture.store.acquireLease('lost-response', 'a', 5_000))!;
    const version = await store.writeCheckpoint(lease, {
      position: positionAfterEvent(ids[3] as string),
      expectedVersion: lease.state.version,
      previous: lease.state.position,
      leaseDurationMs: 5_000,
    });
    expect(calls).toBe(2);
    expect(version).toBe(lease.state.version + 1);
    expect(await fixture.store.getState('lost-response')).toMatchObject({
      version,
      position: positionAfterEvent(ids[3] as string),
    });
  });

  it('fails when the pipeline does not exist', async () => {
    await expect(fixture.store.acquireLease('nobody', 'a', 1_000)).rejects.toMatchObject({
      constructor: MissingResourceError,
      resource: 'pipeline',
    });
  });
});

describe('fetchers under failure', () => {
  it('four fetchers racing on one pipeline: one works at a time, no checkpoint regresses, nothing is lost or doubled', async () => {
    await fixture.store.putPipeline(
      fixture.pipeline({ name: 'race', stream: fixture.stream, pageSize: 100 }),
    );
    // Each fetcher's clock moves 50 ms per reading, so a run of 600 ms does a few pages and ends: the
    // lease changes hands between rounds, and each round starts the four in a different order.
    const steppingClock = () => {
      let now = Date.now();
      return () => {
        now += 50;
        return now;
      };
    };
    const fetchers = ['one', 'two', 'three', 'four'].map((owner) =>
      fixture.fetcher({
        source: fixture.eventLog(),
        owner,
        pipelines: ['race'],
        leaseDurationMs: 5_000,
        clock: steppingClock(),
      }),
    );
    const seen: Position[] = [];
    let racing = true;
    const watcher = (async () => {
      while (racing) {
        const state = await fixture.store.getState('race');
        if (state) seen.push(state.position);
        await sleep(10);
      }
    })();
    const outcomes: string[] = [];
    for (let round = 0; round < 100; round += 1) {
      const order = [...fetchers.slice(round % 4), ...fetchers.slice(0, round % 4)];
      const summaries = await Promise.all(
        order.map((fetcher) => fetcher.run({ budgetMs: 600, untilCaughtUp: true })),
      );
      outcomes.push(...summaries.map((summary) => summary.pipelines.race?.outcome ?? 'none'));
      if (summaries.some((summary) => summary.pipelines.race?.stopReason === 'caught up')) break;
    }
    racing = false;
    await watcher;

    const delivered = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));
    expect(delivered.length).toBe(ids.length);
    expect(new Set(delivered)).toEqual(new Set(ids));
    for (let index = 1; index < seen.length; index += 1) {
      expect(comparePositions(seen[index] as Position, seen[index - 1] as Position)).toBeGreaterThanOrEqual(
        0,
      );
    }
    const runs = await fixture.store.listRuns('race', 100);
    console.log(
      `racing: ${runs.length} runs did the work, by ${new Set(runs.map((run) => run.owner)).size} owners; ${outcomes.length} runs in all`,
    );
    expect(new Set(runs.map((run) => run.owner)).size).toBeGreaterThan(1);
    expect(outcomes.filter((outcome) => outcome === PIPELINE_OUTCOME.locked).length).toBeGreaterThanOrEqual(
      3 * (outcomes.length / 4),
    );
  });

  it('a fetcher paused past its lease finds its checkpoint write refused by the fencing token', async () => {
    await fixture.store.putPipeline(
      fixture.pipeline({ name: 'paused', stream: fixture.stream, pageSize: 500 }),
    );
    let paused = false;
    const stale = fixture.fetcher({
      source: fixture.eventLog(),
      owner: 'stale',
      pipelines: ['paused'],
      leaseDurationMs: 1_000,
      onStep: async (step) => {
        if (step === FETCHER_STEPS.beforeCheckpoint && !paused) {
          paused = true;
          await sleep(2_500); // a long GC pause, a slow network
        }
      },
    });
    const staleRun = stale.run({ budgetMs: 20_000, untilCaughtUp: true });
    await sleep(1_200);
    const fresh = await fixture
      .fetcher({ source: fixture.eventLog(), owner: 'fresh', pipelines: ['paused'], leaseDurationMs: 5_000 })
      .run({ budgetMs: 20_000, untilCaughtUp: true });
    const staleSummary = await staleRun;

    expect(fresh.pipelines.paused?.stopReason).toBe('caught up');
    expect(staleSummary.pipelines.paused?.stopReason).toBe('lease lost');
    const state = await fixture.store.getState('paused');
    expect(state?.checkpointToken).toBe(2);
    expect(state?.leaseToken).toBe(2);
    const delivered = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));
    expect(new Set(delivered)).toEqual(new Set(ids));
    console.log(
      `lease expiry: ${delivered.length - ids.length} events sent twice (the stale fetcher's page before its write was refused)`,
    );
  });

  it.each(Object.values(FETCHER_STEPS))(
    'a crash at %s leaves every event in the queue at least once after restart',
    async (crashAt) => {
      const name = `crash-${crashAt}`;
      const sqs = sqsClient();
      const queue = await createQueueWithDeadLetterQueue(sqs, { visibilityTimeoutSeconds: 60 });
      await fixture.store.putPipeline({
        name,
        stream: fixture.stream,
        queueUrl: queue.queueUrl,
        start: 'earliest',
        pageSize: 700,
      });
      let crashed = false;
      const crashing = fixture.fetcher({
        source: fixture.eventLog(),
        owner: 'crashing',
        pipelines: [name],
        leaseDurationMs: 1_000,
        onStep: (step) => {
          if (step === crashAt && !crashed) {
            crashed = true;
            throw new Error(`crash at ${step}`);
          }
        },
      });
      await expect(crashing.run({ budgetMs: 20_000, untilCaughtUp: true })).rejects.toThrow(
        `crash at ${crashAt}`,
      );
      await sleep(1_050);
      const restarted = await fixture
        .fetcher({ source: fixture.eventLog(), owner: 'restarted', pipelines: [name] })
        .run({ budgetMs: 20_000, untilCaughtUp: true });

      expect(restarted.pipelines[name]?.stopReason).toBe('caught up');
      const delivered = receivedEventIds(await drainQueue(sqs, queue.queueUrl));
      expect(new Set(delivered)).toEqual(new Set(ids));
    },
  );

  it('delivers everything while a tenth of DynamoDB and SQS calls are throttled', async () => {
    const random = seededRandom(10);
    const dynamodb = dynamodbClient();
    const sqs = sqsClient();
    const dynamoFaults = throttleSomeCalls(dynamodb, { rate: 0.1, random });
    const sqsFaults = throttleSomeCalls(sqs, { rate: 0.1, random });
    const queue = await createQueueWithDeadLetterQueue(sqsClient(), { visibilityTimeoutSeconds: 60 });
    await fixture.store.putPipeline({
      name: 'throttled',
      stream: fixture.stream,
      queueUrl: queue.queueUrl,
      start: 'earliest',
      pageSize: 200,
    });
    const [{ PipelineStore }, { Fetcher }, { EventLog }] = await Promise.all([
      import('../../lib/state/pipeline-store'),
      import('../../lib/fetcher/fetcher'),
      import('../../lib/event-log/event-log'),
    ]);
    const store = new PipelineStore({ tableName: fixture.store.tableName, client: dynamodb });
    const source = new EventLog({ tableName: fixture.eventLog().tableName, client: dynamodb });
    let caughtUp = false;
    for (let run = 0; run < 10 && !caughtUp; run += 1) {
      const summary = await new Fetcher({
        store,
        source,
        sqs,
        pipelines: ['throttled'],
        sleep: () => Promise.resolve(),
        finalizeReserveMs: 200,
      })
        .run({ budgetMs: 20_000, untilCaughtUp: true })
        .catch(() => undefined);
      caughtUp = summary?.pipelines.throttled?.stopReason === 'caught up';
    }
    expect(caughtUp).toBe(true);
    expect(dynamoFaults.injected() + sqsFaults.injected()).toBeGreaterThan(5);
    const delivered = receivedEventIds(await drainQueue(sqsClient(), queue.queueUrl));
    expect(new Set(delivered)).toEqual(new Set(ids));
    console.log(
      `throttling: ${dynamoFaults.injected()} DynamoDB and ${sqsFaults.injected()} SQS calls failed; ${delivered.length - ids.length} events sent twice`,
    );
  });
});
