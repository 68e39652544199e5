import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineStore } from '../../lib/state/pipeline-store';
import { leaseHolderWillRead } from '../../lib/wake/lease-check';
import type { WakeRoute } from '../../lib/wake/wake-routes';
import { createStreamTable, dynamodbClient } from '../support/aws';

// The waker reads a pipeline's lease, as a woken run does, and leaves new events to a holder that
// will look for them before it leaves; it wakes the fetcher in every other case.

const dynamodb = dynamodbClient();
let state: Awaited<ReturnType<typeof createStreamTable>>;
let store: PipelineStore;
beforeAll(async () => {
  state = await createStreamTable(dynamodb, 'state');
  store = new PipelineStore({ tableName: state.name, client: dynamodb });
});
afterAll(() => state.drop());

const routeOf = (pipeline: string, stateTable?: string): WakeRoute => ({
  stream: 'orders',
  pipeline,
  target: `${pipeline}-fetcher`,
  untilIdleMs: 1_000,
  ...(stateTable ? { stateTable } : {}),
});

async function registered(pipeline: string): Promise<void> {
  await store.putPipeline({
    name: pipeline,
    stream: 'orders',
    queueUrl: 'https://sqs.local/q',
    start: 'latest',
  });
}

describe('leaseHolderWillRead', () => {
  it('leaves events to a holder that looks before leaving, and to no other', async () => {
    // Prepare: four pipelines, one per state of the lease
    const willRead = leaseHolderWillRead(dynamodb);
    for (const name of ['looking', 'leaving', 'not-looking', 'free']) await registered(name);
    await store.acquireLease('looking', 'fetcher-a', 60_000, { looksBeforeLeaving: true });
    const leaving = await store.acquireLease('leaving', 'fetcher-b', 60_000, { looksBeforeLeaving: true });
    if (!leaving) throw new Error('the lease should be free');
    await store.markLeaving(leaving, true);
    await store.acquireLease('not-looking', 'fetcher-c', 60_000);
    const released = await store.acquireLease('free', 'fetcher-d', 60_000, { looksBeforeLeaving: true });
    if (!released) throw new Error('the lease should be free');
    await store.releaseLease(released);

    // Act & Assess
    expect(await willRead(routeOf('looking', state.name))).toBe(true);
    expect(await willRead(routeOf('leaving', state.name))).toBe(false);
    expect(await willRead(routeOf('not-looking', state.name))).toBe(false);
    expect(await willRead(routeOf('free', state.name))).toBe(false);
    expect(await willRead(routeOf('unknown', state.name))).toBe(false);
    expect(await willRead(routeOf('looking'))).toBe(false);
  });

  it('wakes once the looking holder’s lease has expired', async () => {
    await registered('expired');
    await store.acquireLease('expired', 'fetcher-e', 60_000, { looksBeforeLeaving: true });

    expect(
      await leaseHolderWillRead(dynamodb, () => Date.now() + 61_000)(routeOf('expired', state.name)),
    ).toBe(false);
  });
});
