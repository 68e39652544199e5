import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('waits for a lease another fetcher holds, and delivers what that fetcher left behind, once', async () => {
    // Prepare
    const name = 'handover';
    const stream = `${fixture.stream}-handover`;
    await fixture.store.putPipeline(fixture.pipeline({ name, stream, start: 'latest' }));
    const leaving = fixture.fetcher({ source: fixture.eventLog(), owner: 'leaving' });
    const woken = fixture.fetcher({ source: fixture.eventLog(), owner: 'woken' });
    await leaving.run({ budgetMs: 5_000, untilCaughtUp: true });

    // Act: one fetcher tails for 1.2 s, less than the settle window of the commit made as it starts;
    // the woken one starts while the lease is held
    const holding = leaving.run({ budgetMs: 1_200 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ids = await fixture.eventLog().commit([{ stream, type: 'order', data: { n: 3 } }]);
    const wokenRun = woken.run({ budgetMs: 60_000, untilIdleMs: 500 });
    const [left, summary] = await Promise.all([holding, wokenRun]);
    const delivered = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));

    // Assess
    expect(left.pipelines[name]?.counts.eventsSent ?? 0).toBe(0);
    expect(summary.pipelines[name]).toMatchObject({ outcome: PIPELINE_OUTCOME.finished, stopReason: 'idle' });
    expect(delivered).toEqual(ids);
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
