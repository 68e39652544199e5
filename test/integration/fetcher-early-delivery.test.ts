import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_OUTCOME } from '../../lib/fetcher/types';
import { EventIdGenerator } from '../../lib/time/event-id';
import { isDeliveredAt, positionBeforeEvent } from '../../lib/time/position';
import { dynamodbClient } from '../support/aws';
import { sleep } from '../support/fixtures';
import { delayRequests } from '../support/inject';
import { createPipelineFixture, drainQueue, receivedEventIds } from '../support/pipeline-fixture';
import { waitFor } from '../support/wait-for';

// Early delivery (`docs/early-delivery.md`): a tailing fetcher sends events as soon as it sees them
// committed, keeps their ids with the checkpoint, and skips them once they settle.
// A settle window long enough that "not yet settled" does not depend on this machine's speed.
const SETTLE_WINDOW_MS = 4_000;
const COMMIT_DEADLINE_MS = 1_000;

describe('early delivery', () => {
  let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;
  beforeAll(async () => {
    fixture = await createPipelineFixture();
  });
  afterAll(() => fixture.drop());

  const log = (options: Parameters<typeof fixture.eventLog>[0] = {}) =>
    fixture.eventLog({ settleWindowMs: SETTLE_WINDOW_MS, commitDeadlineMs: COMMIT_DEADLINE_MS, ...options });

  async function livePipeline(name: string, extra: { earlyDelivery?: boolean } = {}) {
    const stream = `${fixture.stream}-${name}`;
    await fixture.store.putPipeline(fixture.pipeline({ name, stream, start: 'latest', ...extra }));
    await fixture.fetcher({ source: log() }).run({ budgetMs: 5_000, untilCaughtUp: true, only: [name] });
    return stream;
  }

  it('sends an event before its settle window has passed, keeps its id with the checkpoint, and does not send it again', async () => {
    // Prepare
    const name = 'ahead';
    const stream = await livePipeline(name);
    const [id] = await log().commit([{ stream, type: 'order', data: { n: 1 } }]);

    // Act: a tailing run far shorter than the settle window
    const early = await fixture.fetcher({ source: log() }).run({ budgetMs: 600, only: [name] });
    const first = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));
    const stored = await fixture.store.getState(name);
    await sleep(SETTLE_WINDOW_MS);
    const settled = await fixture
      .fetcher({ source: log() })
      .run({ budgetMs: 5_000, untilCaughtUp: true, only: [name] });
    const second = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));
    const after = await fixture.store.getState(name);

    // Assess
    expect(first).toEqual([id]);
    expect(early.pipelines[name]?.counts.eventsSentAhead).toBe(1);
    expect(stored && isDeliveredAt(stored.position, id as string)).toBe(false);
    expect(stored?.sentAhead).toEqual({ epoch: 0, ids: [id] });
    expect(second).toEqual([]);
    expect(settled.pipelines[name]?.outcome).toBe(PIPELINE_OUTCOME.finished);
    expect(after && isDeliveredAt(after.position, id as string)).toBe(true);
    expect(after?.sentAhead).toBeUndefined();
  });

  it('delivers an event that lands behind one sent ahead, once, when it settles', async () => {
    // Prepare: one id source for both writers, so that their ids follow the order they were taken in
    const name = 'behind';
    const stream = await livePipeline(name);
    const ids = new EventIdGenerator();
    const slowClient = dynamodbClient();
    delayRequests(slowClient, ['PutItemCommand', 'TransactWriteItemsCommand'], () => 800);
    const slow = log({ client: slowClient, idGenerator: ids }).commit([
      { stream, type: 'order', data: { n: 1 } },
    ]);
    await sleep(100);
    const [fastId] = await log({ idGenerator: ids }).commit([{ stream, type: 'order', data: { n: 2 } }]);

    // Act: a run sends the fast event ahead while the slow one is still on its way
    await fixture.fetcher({ source: log() }).run({ budgetMs: 300, only: [name] });
    const whileSlow = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));
    const [slowId] = await slow;
    await sleep(SETTLE_WINDOW_MS);
    await fixture.fetcher({ source: log() }).run({ budgetMs: 5_000, untilCaughtUp: true, only: [name] });
    const later = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));

    // Assess
    expect((slowId as string) < (fastId as string)).toBe(true);
    expect(whileSlow).toEqual([fastId]);
    expect(later).toEqual([slowId]);
  });

  it('sends an event sent ahead again after a seek back to before it', async () => {
    // Prepare
    const name = 'seek';
    const stream = await livePipeline(name);
    const [id] = await log().commit([{ stream, type: 'order', data: { n: 1 } }]);
    await fixture.fetcher({ source: log() }).run({ budgetMs: 600, only: [name] });
    const first = await drainQueue(fixture.sqs, fixture.queue.queueUrl);

    // Act
    await fixture.store.seek(name, positionBeforeEvent(id as string), { reason: 'replay' });
    const afterSeek = await fixture.store.getState(name);
    await sleep(SETTLE_WINDOW_MS);
    await fixture.fetcher({ source: log() }).run({ budgetMs: 5_000, untilCaughtUp: true, only: [name] });
    const replayed = await drainQueue(fixture.sqs, fixture.queue.queueUrl);

    // Assess: the same event, in the seek's epoch
    expect(receivedEventIds(first)).toEqual([id]);
    expect(afterSeek?.sentAhead).toBeUndefined();
    expect(receivedEventIds(replayed)).toEqual([id]);
    expect(replayed[0]?.envelope.epoch).toBe(1);
  });

  it('waits for the settle window where early delivery is off', async () => {
    // Prepare
    const name = 'settled-only';
    const stream = await livePipeline(name, { earlyDelivery: false });
    const [id] = await log().commit([{ stream, type: 'order', data: { n: 1 } }]);

    // Act
    const early = await fixture.fetcher({ source: log() }).run({ budgetMs: 600, only: [name] });
    const first = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));
    const later = await waitFor('the event settled and sent', async () => {
      await fixture.fetcher({ source: log() }).run({ budgetMs: 5_000, untilCaughtUp: true, only: [name] });
      const ids = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl, 1));
      return ids.length > 0 ? ids : undefined;
    });

    // Assess
    expect(first).toEqual([]);
    expect(early.pipelines[name]?.counts.eventsSentAhead).toBeUndefined();
    expect(later).toEqual([id]);
  });
});

describe('early delivery on a FIFO queue', () => {
  let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;
  beforeAll(async () => {
    fixture = await createPipelineFixture({ fifo: true });
  });
  afterAll(() => fixture.drop());

  it('is off by default, so events arrive in commit order', async () => {
    // Prepare
    const name = 'fifo';
    const stream = `${fixture.stream}-fifo`;
    await fixture.store.putPipeline(fixture.pipeline({ name, stream, start: 'latest' }));
    const source = fixture.eventLog({
      settleWindowMs: SETTLE_WINDOW_MS,
      commitDeadlineMs: COMMIT_DEADLINE_MS,
    });
    await fixture.fetcher({ source }).run({ budgetMs: 5_000, untilCaughtUp: true, only: [name] });
    await source.commit([{ stream, type: 'order', data: { n: 1 } }]);

    // Act
    const summary = await fixture.fetcher({ source }).run({ budgetMs: 600, only: [name] });

    // Assess
    expect(summary.pipelines[name]?.counts.eventsSentAhead).toBeUndefined();
    expect(receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl))).toEqual([]);
  });

  it('refuses earlyDelivery: true, naming the queue', async () => {
    await expect(
      fixture.store.putPipeline(fixture.pipeline({ name: 'fifo-early', stream: 's', earlyDelivery: true })),
    ).rejects.toThrow(/earlyDelivery is true but the queue .*\.fifo is a FIFO queue/);
  });
});
