import { describe, expect, inject, it } from 'vitest';
import { createWorker, type FailedEvent, NonRetryableError } from '../../lib';
import { type LocalPipeline, startLocalPipeline } from '../../lib/local';
import { uniqueName } from '../support/aws';

type Order = { n: number; poison?: boolean };
const EVENT_COUNT = 200;
const POISON = new Set([42, 157]);

function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe('startLocalPipeline', () => {
  it('takes committed events through fetcher, worker and failed handler, each once', async () => {
    // Prepare
    const handled = new Map<number, number>();
    const attempts = new Map<number, number>();
    const handedOver: FailedEvent<Order>[] = [];
    const stream = uniqueName('orders');
    const local: LocalPipeline = await startLocalPipeline({
      endpoints: { dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') },
      eventLogTable: uniqueName('events'),
      stateTable: uniqueName('state'),
      pipeline: { name: uniqueName('billing'), stream, start: 'earliest', maxEventsPerMessage: 5 },
      workerFactory: (resources) =>
        createWorker<Order>(
          {
            pipeline: resources.pipeline,
            stateTable: resources.stateTable,
            queueUrl: resources.queueUrl,
            deadLetterQueueUrl: resources.deadLetterQueueUrl,
            sqs: resources.sqs,
            dynamodb: resources.dynamodb,
            maxRedeliveryCount: 3,
            backoff: { baseDelaySeconds: 1, maxDelaySeconds: 1, jitter: false },
            handle: async (event) => {
              attempts.set(event.data.n, (attempts.get(event.data.n) ?? 0) + 1);
              if (event.data.poison) throw new Error(`order ${event.data.n} is poison`);
              handled.set(event.data.n, (handled.get(event.data.n) ?? 0) + 1);
            },
          },
          {},
        ),
      failedHandler: (failures) => void handedOver.push(...(failures as FailedEvent<Order>[])),
      batchSize: 10,
      maximumConcurrency: 4,
      workerTimeoutSeconds: 10,
      maxRedeliveryCount: 3,
      fetcherIntervalMs: 300,
      fetcherTimeoutSeconds: 3,
      fetcherPollIntervalMs: 100,
    });

    try {
      // Act
      const inputs = Array.from({ length: EVENT_COUNT }, (_, n) => ({
        stream,
        type: 'order',
        data: { n, ...(POISON.has(n) ? { poison: true } : {}) } as Order,
      }));
      for (let start = 0; start < inputs.length; start += 100)
        await local.eventLog.commit(inputs.slice(start, start + 100));
      await local.waitForIdle({ timeoutMs: 60_000 });

      // Assess
      const expected = Array.from({ length: EVENT_COUNT }, (_, n) => n).filter((n) => !POISON.has(n));
      expect([...handled.keys()].sort((a, b) => a - b)).toEqual(expected);
      expect([...handled.values()].every((count) => count === 1)).toBe(true);
      expect(handedOver.map((failure) => failure.event.data.n).sort((a, b) => a - b)).toEqual([...POISON]);
      for (const failure of handedOver)
        expect(failure).toMatchObject({
          attempts: 3,
          lastError: { message: `order ${failure.event.data.n} is poison` },
        });
      for (const n of POISON) expect(attempts.get(n)).toBe(3);
      const stats = local.stats();
      expect(stats.worker.inFlight).toBe(0);
      expect(stats.failed.invocations).toBeGreaterThanOrEqual(1);
      expect(stats.fetcher.peakConcurrency).toBe(1);
    } finally {
      await local.stop();
    }
  }, 90_000);

  it('lets a failedHandler commit events with context.commit, as the README recommends', async () => {
    // Prepare
    const stream = uniqueName('orders');
    const local = await startLocalPipeline({
      endpoints: { dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') },
      eventLogTable: uniqueName('events'),
      stateTable: uniqueName('state'),
      pipeline: { name: uniqueName('refunds'), stream, start: 'earliest' },
      workerFactory: (resources) =>
        createWorker<Order>(
          {
            pipeline: resources.pipeline,
            stateTable: resources.stateTable,
            queueUrl: resources.queueUrl,
            deadLetterQueueUrl: resources.deadLetterQueueUrl,
            sqs: resources.sqs,
            dynamodb: resources.dynamodb,
            handle: async (event) => {
              throw new NonRetryableError(`order ${event.data.n} cannot be charged`);
            },
          },
          {},
        ),
      failedHandler: (failures, context) => {
        for (const failure of failures)
          context.commit(failure.event.id, {
            stream: `${stream}-failed`,
            type: 'order.charge-failed',
            data: { orderId: failure.event.id, reason: failure.lastError.message },
          });
      },
      fetcherIntervalMs: 300,
      fetcherTimeoutSeconds: 3,
      fetcherPollIntervalMs: 100,
    });

    try {
      // Act
      const [id] = await local.eventLog.commit([{ stream, type: 'order', data: { n: 7 } }]);
      await local.waitForIdle({ timeoutMs: 30_000 });

      // Assess
      const committed = await local.eventLog.range(`${stream}-failed`, { limit: 10 });
      expect(committed.events.map((event) => event.data)).toEqual([
        { orderId: id, reason: 'order 7 cannot be charged' },
      ]);
      expect(local.stats().failed.failedItems).toBe(0);
    } finally {
      await local.stop();
    }
  }, 60_000);

  it('starts its own emulators and leaves no process behind on stop()', async () => {
    // Prepare
    const seen: number[] = [];
    const local = await startLocalPipeline({
      pipeline: { name: 'embedded', stream: 'orders', start: 'earliest' },
      worker: async (event) => {
        seen.push(event.Records.length);
        return { batchItemFailures: [] };
      },
      fetcherIntervalMs: 200,
      fetcherTimeoutSeconds: 2,
      fetcherPollIntervalMs: 100,
    });
    const pids = [...local.pids];

    try {
      // Act
      await local.eventLog.commit({ stream: 'orders', type: 'order', data: { n: 1 } });
      await local.waitForIdle({ timeoutMs: 30_000 });
    } finally {
      await local.stop();
    }

    // Assess
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(processIsGone(pid)).toBe(true);
  }, 120_000);
});
