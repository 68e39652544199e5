import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { describe, expect, inject, it } from 'vitest';
import { orderStages, type PricedOrder } from '../../examples/stages/orders-stages';

import { defineStages, type FailedEvent, type StageHandler } from '../../lib';
import { type LocalStages, startLocalStages } from '../../lib/local';
import { isDeliveredAt } from '../../lib/time/position';
import { sqsClient, uniqueName } from '../support/aws';
import { waitFor } from '../support/wait-for';

const endpoints = () => ({ dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') });
const FAST = { fetcherIntervalMs: 300, fetcherTimeoutSeconds: 2, fetcherPollIntervalMs: 100 } as const;

/** Messages visible and in flight in a queue. */
async function queueDepth(queueUrl: string): Promise<number> {
  const sqs = sqsClient();
  try {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  } finally {
    sqs.destroy();
  }
}

async function streamEvents(local: LocalStages, stream: string) {
  const events = [];
  let cursor: string | undefined;
  do {
    const page = await local.eventLog.range(stream, { limit: 500, ...(cursor ? { cursor } : {}) });
    events.push(...page.events);
    cursor = page.cursor;
  } while (cursor);
  return events;
}

describe('stages on the emulators', () => {
  it('takes every order through extract, transform and load once, and skips the poison line to the failed handler', async () => {
    // Prepare
    const ORDERS = 60;
    const POISON = 17;
    const name = uniqueName('orders');
    const source = `${name}.raw`;
    const loaded = new Map<string, number>();
    const stages = orderStages({
      name,
      source,
      sink: (order: PricedOrder) => void loaded.set(order.orderId, (loaded.get(order.orderId) ?? 0) + 1),
    });
    const failed: Record<string, FailedEvent[]> = { extract: [], transform: [], load: [] };
    const withFailedHandlers = {
      ...stages,
      stages: stages.stages.map((stage) => ({
        ...stage,
        failedHandler: (failures: readonly FailedEvent[]) => void failed[stage.name]?.push(...failures),
      })),
    };
    const local = await startLocalStages({
      stages: withFailedHandlers,
      endpoints: endpoints(),
      eventLogTable: uniqueName('events'),
      stateTable: uniqueName('state'),
      ...FAST,
    });
    try {
      // Act
      for (let n = 0; n < ORDERS; n += 10) {
        await local.eventLog.commit(
          Array.from({ length: 10 }, (_, i) => ({
            stream: source,
            type: 'order.exported',
            data: { line: `o-${n + i},${n + i === POISON ? 0 : 2},${n + i}.25` },
          })),
        );
      }
      await local.waitForIdle({ timeoutMs: 50_000 });

      // Assess: read at once after waitForIdle, so these counts prove it waited for the last stage.
      const atTheEnd = await streamEvents(local, `${name}.loaded`);
      expect(atTheEnd).toHaveLength(ORDERS - 1);
      const ids = atTheEnd.map((event) => (event.data as PricedOrder).orderId);
      expect(new Set(ids).size).toBe(ORDERS - 1);
      expect(ids).not.toContain(`o-${POISON}`);
      expect(atTheEnd.find((event) => (event.data as PricedOrder).orderId === 'o-3')?.data).toEqual({
        orderId: 'o-3',
        quantity: 2,
        unitPrice: 3.25,
        total: 6.5,
      });
      expect(atTheEnd.every((event) => event.type === 'order.loaded')).toBe(true);
      expect(loaded.size).toBe(ORDERS - 1);
      expect([...loaded.values()].every((count) => count === 1)).toBe(true);
      expect(await streamEvents(local, `${name}.extract`)).toHaveLength(ORDERS);
      expect(await streamEvents(local, `${name}.transform`)).toHaveLength(ORDERS - 1);
      expect(failed.transform).toHaveLength(1);
      expect(failed.transform?.[0]?.attempts).toBe(1);
      expect(failed.transform?.[0]?.lastError.message).toContain(`order o-${POISON} has quantity 0`);
      expect(failed.extract).toHaveLength(0);
      expect(failed.load).toHaveLength(0);
    } finally {
      await local.stop();
    }
  });

  it('halts an aborting stage, keeps it halted through re-registration, and carries on after a resume', async () => {
    // Prepare
    const name = uniqueName('abort');
    const source = `${name}.in`;
    const stored: number[] = [];
    const failures: FailedEvent[] = [];
    const store: StageHandler<{ n: number }, unknown> = (event) => {
      if (event.data.n < 0) throw new Error(`cannot store ${event.data.n}`);
      stored.push(event.data.n);
      return undefined;
    };
    const stages = defineStages({
      name,
      source: { stream: source, start: 'earliest' },
      stages: [
        { name: 'pass', handle: (event) => event.data },
        {
          name: 'store',
          handle: store,
          onStageError: 'abort',
          maxRedeliveryCount: 1,
          failedHandler: (events) => void failures.push(...events),
        },
      ],
    });
    const storeStage = `${name}.store`;
    const local = await startLocalStages({
      stages,
      endpoints: endpoints(),
      eventLogTable: uniqueName('events'),
      stateTable: uniqueName('state'),
      ...FAST,
    });
    try {
      // Act: a bad event halts the stage.
      await local.eventLog.commit({ stream: source, type: 'n', data: { n: -1 } });
      const halted = await waitFor(
        'the store stage halted',
        async () => (await local.store.getPipeline(storeStage))?.halted,
      );
      // A fetcher registering the definition again (a cold start) leaves the halt in place.
      const definition = await local.store.getPipeline(storeStage);
      await local.store.putPipeline({
        name: storeStage,
        stream: definition?.stream ?? '',
        queueUrl: definition?.queueUrl ?? '',
        start: 'earliest',
      });
      await waitFor(
        'a fetcher run that skipped the halted stage',
        () => local.stages.store?.stats().fetcher.lastRun?.pipelines[storeStage]?.outcome === 'disabled',
      );
      for (let n = 1; n <= 5; n += 1) await local.eventLog.commit({ stream: source, type: 'n', data: { n } });
      await local.waitForIdle({ timeoutMs: 40_000 });

      // Assess
      expect(halted.reason).toContain('stage store aborted on event');
      expect(halted.reason).toContain('cannot store -1');
      const afterRegistration = await local.store.getPipeline(storeStage);
      expect(afterRegistration?.enabled).toBe(false);
      expect(afterRegistration?.halted).toEqual(halted);
      expect(failures).toHaveLength(1);
      expect(failures[0]?.lastError.message).toBe('cannot store -1');
      // The upstream stage passed all five on; the halted stage took none of them.
      expect(await streamEvents(local, `${name}.pass`)).toHaveLength(6);
      expect(stored).toEqual([]);

      // Act: resume.
      await local.store.resumePipeline(storeStage);
      await local.waitForIdle({ timeoutMs: 40_000 });

      // Assess
      expect((await local.store.getPipeline(storeStage))?.enabled).toBe(true);
      expect([...stored].sort()).toEqual([1, 2, 3, 4, 5]);
    } finally {
      await local.stop();
    }
  });

  it('lets a slow stage fall behind at its bufferSize while the stage before it keeps committing to the log', async () => {
    // Prepare
    const EVENTS = 40;
    const BUFFER = 3;
    const name = uniqueName('slow');
    const source = `${name}.in`;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started: number[] = [];
    const done: number[] = [];
    const slow: StageHandler<{ n: number }, { n: number }> = async (event) => {
      started.push(event.data.n);
      await gate;
      done.push(event.data.n);
      return event.data;
    };
    const stages = defineStages({
      name,
      source: { stream: source, start: 'earliest' },
      stages: [
        { name: 'fast', handle: (event) => event.data },
        {
          name: 'slow',
          handle: slow,
          bufferSize: BUFFER,
          maxEventsPerMessage: 1,
          batchSize: 1,
          concurrency: 1,
        },
        { name: 'last', handle: (event) => event.data, output: {} },
      ],
    });
    const local = await startLocalStages({
      stages,
      endpoints: endpoints(),
      eventLogTable: uniqueName('events'),
      stateTable: uniqueName('state'),
      maximumConcurrency: 2,
      ...FAST,
    });
    const slowPipeline = `${name}.slow`;
    try {
      // Act
      await local.eventLog.commit(
        Array.from({ length: EVENTS }, (_, n) => ({ stream: source, type: 'n', data: { n } })),
      );
      const paused = await waitFor(
        'the fast stage done and the slow stage paused for backpressure',
        async () => {
          const fastOutput = await streamEvents(local, `${name}.fast`);
          const run = local.stages.slow?.stats().fetcher.lastRun?.pipelines[slowPipeline];
          return fastOutput.length === EVENTS && run?.stopReason?.startsWith('backpressure')
            ? run
            : undefined;
        },
        { timeoutMs: 40_000 },
      );
      const queued = await queueDepth(local.stages.slow?.queueUrl ?? '');
      const state = await local.store.getState(slowPipeline);

      // Assess: the backlog waits in the log, not the queue.
      expect(paused.stopReason).toMatch(/^backpressure/);
      expect(queued).toBeLessThanOrEqual(BUFFER);
      expect(started.length).toBeLessThanOrEqual(BUFFER);
      expect(done).toHaveLength(0);
      const fastOutput = await streamEvents(local, `${name}.fast`);
      const newest = fastOutput.at(-1);
      expect(newest).toBeDefined();
      expect(state && newest && isDeliveredAt(state.position, newest.id)).toBe(false);

      // Act: the slow stage catches up.
      release();
      await local.waitForIdle({ timeoutMs: 50_000 });

      // Assess
      expect(new Set(done).size).toBe(EVENTS);
      expect(done).toHaveLength(EVENTS);
      expect(await streamEvents(local, `${name}.last`)).toHaveLength(EVENTS);
    } finally {
      release();
      await local.stop();
    }
  });
});
