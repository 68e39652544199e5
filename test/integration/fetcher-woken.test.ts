import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventSource } from '../../lib/event-log/event-source';
import { PIPELINE_OUTCOME } from '../../lib/fetcher/types';
import { steppingIdGenerator } from '../support/fixtures';
import { createPipelineFixture, drainQueue, receivedEventIds } from '../support/pipeline-fixture';

describe('a fetcher run woken by a commit (untilIdleMs)', () => {
  let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;
  beforeAll(async () => {
    fixture = await createPipelineFixture();
  });
  afterAll(() => fixture.drop());

  it('delivers the commits that woke it, then leaves once idle instead of tailing to its deadline', async () => {
    // Prepare
    const name = 'woken';
    await fixture.store.putPipeline(fixture.pipeline({ name, stream: fixture.stream, start: 'latest' }));
    const fetcher = fixture.fetcher({ source: fixture.eventLog() });
    await fetcher.run({ budgetMs: 5_000, untilCaughtUp: true });
    const ids = await fixture.eventLog().commit([
      { stream: fixture.stream, type: 'order', data: { n: 1 } },
      { stream: fixture.stream, type: 'order', data: { n: 2 } },
    ]);

    // Act: no idle time at all; the run still waits for the settle window (1.5 s) of what woke it
    const summary = await fetcher.run({ budgetMs: 120_000, untilIdleMs: 0, readThrough: ids[1] });
    const delivered = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));

    // Assess
    expect(delivered).toEqual(ids);
    expect(summary.pipelines[name]).toMatchObject({ outcome: PIPELINE_OUTCOME.finished, stopReason: 'idle' });
  });

  it('leaves its events to a holder that is not leaving, and returns at once instead of waiting for the lease', async () => {
    // Prepare: a fetcher tails the pipeline, as a woken run does while events keep coming
    const name = 'handover';
    const stream = `${fixture.stream}-handover`;
    await fixture.store.putPipeline(fixture.pipeline({ name, stream, start: 'latest' }));
    const holder = fixture.fetcher({ source: fixture.eventLog(), owner: 'holder' });
    const woken = fixture.fetcher({ source: fixture.eventLog(), owner: 'woken' });
    await holder.run({ budgetMs: 5_000, untilCaughtUp: true, only: [name] });
    let holderEnded = false;
    const holding = holder.run({ budgetMs: 30_000, untilIdleMs: 1_000, only: [name] }).then((summary) => {
      holderEnded = true;
      return summary;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Act: a commit, and the run it wakes while the lease is held
    const ids = await fixture.eventLog().commit([{ stream, type: 'order', data: { n: 3 } }]);
    const summary = await woken.run({
      budgetMs: 30_000,
      untilIdleMs: 1_000,
      readThrough: ids[0],
      only: [name],
    });
    const endedBeforeWokenRun = holderEnded;
    const held = await holding;
    const delivered = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));

    // Assess: the woken run did not wait for the holder, which delivered the event once
    expect(summary.pipelines[name]).toMatchObject({
      outcome: PIPELINE_OUTCOME.locked,
      stopReason: 'left to the fetcher holding the lease',
    });
    expect(endedBeforeWokenRun).toBe(false);
    expect(held.pipelines[name]).toMatchObject({ outcome: PIPELINE_OUTCOME.finished, stopReason: 'idle' });
    expect(delivered).toEqual(ids);
  });

  it('stays for an event committed as it was about to leave once idle', async () => {
    // Prepare: the event lands just before the holder looks for unread events
    const name = 'stays';
    const stream = `${fixture.stream}-stays`;
    await fixture.store.putPipeline(fixture.pipeline({ name, stream, start: 'latest' }));
    const log = fixture.eventLog();
    await fixture.fetcher({ source: log }).run({ budgetMs: 5_000, untilCaughtUp: true, only: [name] });
    const landed: string[] = [];
    const source: EventSource = {
      listTimeBuckets: (...args) => log.listTimeBuckets(...args),
      readAfter: (...args) => log.readAfter(...args),
      firstCommittedAfter: async (...args) => {
        if (landed.length === 0)
          landed.push(...(await log.commit([{ stream, type: 'order', data: { n: 5 } }])));
        return log.firstCommittedAfter(...args);
      },
    };

    // Act
    const summary = await fixture.fetcher({ source }).run({ budgetMs: 30_000, untilIdleMs: 0, only: [name] });
    const delivered = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));

    // Assess
    expect(landed).toHaveLength(1);
    expect(delivered).toEqual(landed);
    expect(summary.pipelines[name]).toMatchObject({ outcome: PIPELINE_OUTCOME.finished, stopReason: 'idle' });
  });

  it('waits for a holder that is leaving, and takes the lease once it is given up', async () => {
    // Prepare: another fetcher holds the lease and is giving it up
    const name = 'leaving';
    const stream = `${fixture.stream}-leaving`;
    await fixture.store.putPipeline(fixture.pipeline({ name, stream, start: 'latest' }));
    await fixture
      .fetcher({ source: fixture.eventLog() })
      .run({ budgetMs: 5_000, untilCaughtUp: true, only: [name] });
    const lease = await fixture.store.acquireLease(name, 'leaving-fetcher', 60_000, {
      looksBeforeLeaving: true,
    });
    if (!lease) throw new Error('the lease should be free');
    await fixture.store.markLeaving(lease, true);
    const ids = await fixture.eventLog().commit([{ stream, type: 'order', data: { n: 6 } }]);

    // Act: the woken run starts while the lease is held by a leaving fetcher, which then lets go
    const wokenRun = fixture
      .fetcher({ source: fixture.eventLog(), owner: 'woken' })
      .run({ budgetMs: 30_000, untilIdleMs: 0, readThrough: ids[0], only: [name] });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await fixture.store.releaseLease(lease);
    const summary = await wokenRun;
    const delivered = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));

    // Assess
    expect(summary.pipelines[name]).toMatchObject({ outcome: PIPELINE_OUTCOME.finished, stopReason: 'idle' });
    expect(delivered).toEqual(ids);
    expect((await fixture.store.getState(name))?.leaseLeaving).toBeUndefined();
  });

  it('hands events still settling over to another run when it must end', async () => {
    // Prepare
    const name = 'deadline';
    const stream = `${fixture.stream}-deadline`;
    // Without early delivery, so that the event is still to be sent when the run ends
    await fixture.store.putPipeline(
      fixture.pipeline({ name, stream, start: 'latest', earlyDelivery: false }),
    );
    const handedOff: { pipeline: string; readThrough: string }[] = [];
    const ending = fixture.fetcher({
      source: fixture.eventLog(),
      handOff: async (pipeline, readThrough) => void handedOff.push({ pipeline, readThrough }),
    });
    await ending.run({ budgetMs: 5_000, untilCaughtUp: true, only: [name] });

    // Act: a run, leaving once idle, whose deadline comes before the commit made as it starts has settled
    const endingRun = ending.run({ budgetMs: 1_000, untilIdleMs: 60_000, only: [name] });
    const ids = await fixture.eventLog().commit([{ stream, type: 'order', data: { n: 7 } }]);
    const ended = await endingRun;
    const handedOver = await fixture
      .fetcher({ source: fixture.eventLog() })
      .run({ budgetMs: 30_000, untilIdleMs: 0, readThrough: handedOff[0]?.readThrough, only: [name] });
    const delivered = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));

    // Assess
    expect(ended.pipelines[name]?.counts.eventsSent ?? 0).toBe(0);
    expect(ended.pipelines[name]?.handedOffThrough).toBe(ids[0]);
    expect(handedOff).toEqual([{ pipeline: name, readThrough: ids[0] }]);
    expect(handedOver.pipelines[name]).toMatchObject({ stopReason: 'idle' });
    expect(delivered).toEqual(ids);
  });

  it('does not hand over after a failure, which the next run would meet again at once', async () => {
    // Prepare: the pipeline's queue does not exist, so its first send fails
    const name = 'failing';
    const stream = `${fixture.stream}-failing`;
    const missingQueue = `${fixture.queue.queueUrl}-missing`;
    await fixture.store.putPipeline(
      fixture.pipeline({ name, stream, start: 'latest', queueUrl: missingQueue }),
    );
    const handedOff: string[] = [];
    const fetcher = fixture.fetcher({
      source: fixture.eventLog(),
      handOff: async (_pipeline, readThrough) => void handedOff.push(readThrough),
    });
    await fetcher.run({ budgetMs: 5_000, untilCaughtUp: true, only: [name] });
    const ids = await fixture.eventLog().commit([{ stream, type: 'order', data: { n: 8 } }]);

    // Act
    const summary = await fetcher.run({
      budgetMs: 30_000,
      untilIdleMs: 0,
      readThrough: ids[0],
      only: [name],
    });

    // Assess
    expect(summary.pipelines[name]?.outcome).toBe(PIPELINE_OUTCOME.failed);
    expect(summary.pipelines[name]?.handedOffThrough).toBeUndefined();
    expect(handedOff).toEqual([]);
  });

  it('reads through the id the waker names, though a fast writer clock put it seconds ahead', async () => {
    // Prepare: ids 3 s ahead of this clock (a fast writer clock, not refused: ahead is never late)
    const name = 'ahead';
    const stream = `${fixture.stream}-ahead`;
    await fixture.store.putPipeline(fixture.pipeline({ name, stream, start: 'latest' }));
    const fetcher = fixture.fetcher({ source: fixture.eventLog() });
    await fetcher.run({ budgetMs: 5_000, untilCaughtUp: true });
    const ahead = fixture.eventLog({ idGenerator: steppingIdGenerator(Date.now() + 3_000, () => 1) });
    const ids = await ahead.commit([{ stream, type: 'order', data: { n: 4 } }]);

    // Act
    const summary = await fetcher.run({ budgetMs: 60_000, untilIdleMs: 0, readThrough: ids[0] });
    const delivered = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));

    // Assess
    expect(delivered).toEqual(ids);
    expect(summary.pipelines[name]).toMatchObject({ stopReason: 'idle' });
  });

  it('refuses an untilIdleMs that is not a duration, naming it', async () => {
    // Prepare
    const fetcher = fixture.fetcher({ source: fixture.eventLog() });

    // Act & Assess
    await expect(fetcher.run({ budgetMs: 1_000, untilIdleMs: -1 })).rejects.toThrow(
      'untilIdleMs must be a number of milliseconds, 0 or more (given -1)',
    );
    await expect(fetcher.run({ budgetMs: 1_000, untilIdleMs: 0, readThrough: 'e-1' })).rejects.toThrow(
      'readThrough must be an event id (given "e-1")',
    );
  });
});
