import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { createWorker, EventLog } from '../../lib';
import { type LocalPipeline, type LocalPipelineOptions, startLocalPipeline } from '../../lib/local';
import { pause } from '../../lib/local/runtime/pause';
import { EventIdGenerator } from '../../lib/time/event-id';
import { dynamodbClient, uniqueName } from '../support/aws';

/** Far longer than the bound below: a delivery within the bound can only come from a wake-up. */
const TIMER_MS = 60_000;
/** Generous: the settle window (1.5 s) plus the stream's polling, a fetcher run and the worker. */
const DELIVERY_BOUND_MS = 15_000;

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await pause(50);
  }
  return condition();
}

/** Whether the run the schedule starts with has ended, once idle: after it, only a wake-up runs the fetcher. */
function firstRunOver(local: LocalPipeline): Promise<boolean> {
  return until(() => {
    const { invocations, running } = local.stats().fetcher;
    return invocations === 1 && !running;
  }, 20_000);
}

/** A local pipeline on fresh tables whose fetcher timer is far off, handing each event to `handle`. */
function startWokenPipeline(
  stream: string,
  handle: (event: { id: string; data: { n: number } }) => void,
  options: Partial<LocalPipelineOptions> = {},
) {
  return startLocalPipeline({
    endpoints: { dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') },
    eventLogTable: uniqueName('events'),
    stateTable: uniqueName('state'),
    pipeline: { name: uniqueName('billing'), stream, start: 'earliest' },
    workerFactory: (resources) =>
      createWorker<{ n: number }>(
        {
          pipeline: resources.pipeline,
          stateTable: resources.stateTable,
          queueUrl: resources.queueUrl,
          deadLetterQueueUrl: resources.deadLetterQueueUrl,
          sqs: resources.sqs,
          dynamodb: resources.dynamodb,
          handle: async (event) => void handle(event),
        },
        {},
      ),
    fetcherIntervalMs: TIMER_MS,
    ...options,
  });
}

describe('startLocalPipeline waking on commit', () => {
  it('delivers a commit long before the fetcher timer, woken by the table stream', async () => {
    // Prepare
    const handled: string[] = [];
    const stream = uniqueName('orders');
    const local = await startWokenPipeline(stream, (event) => handled.push(event.id), {
      fetcherTimeoutSeconds: 60,
    });
    try {
      // The run the schedule starts with leaves once idle; after it, only a wake-up runs the fetcher.
      expect(await firstRunOver(local)).toBe(true);

      // Act
      const committed = await local.eventLog.commit({ stream, type: 'order', data: { n: 1 } });
      const delivered = await until(() => handled.includes(committed), DELIVERY_BOUND_MS);

      // Assess
      expect(delivered).toBe(true);
      const stats = local.stats();
      expect(stats.fetcher.invocations).toBe(1);
      expect(stats.wake?.wakeups).toBeGreaterThanOrEqual(1);
      expect(stats.wake?.wokenRuns).toBeGreaterThanOrEqual(1);
      expect(stats.wake?.stream.records).toBeGreaterThanOrEqual(1);
    } finally {
      await local.stop();
    }
  });

  it('runs each woken run to the end of what woke it, for commits that keep coming', async () => {
    // Prepare
    const handled = new Set<number>();
    const stream = uniqueName('orders');
    const local = await startWokenPipeline(stream, (event) => handled.add(event.data.n));
    try {
      // Act: commits spread over a few seconds, some while a woken run is reading.
      for (let n = 0; n < 8; n += 1) {
        await local.eventLog.commit({ stream, type: 'order', data: { n } });
        await pause(400);
      }
      const delivered = await until(() => handled.size === 8, DELIVERY_BOUND_MS);

      // Assess
      expect(delivered).toBe(true);
      expect(local.stats().fetcher.invocations).toBe(1);
    } finally {
      await local.stop();
    }
  });

  it('gathers the stream’s records for wakeBatchingWindowSeconds before waking, as the deployed event source does', async () => {
    // Prepare
    const handledAt = new Map<number, number>();
    const stream = uniqueName('orders');
    const local = await startWokenPipeline(stream, (event) => handledAt.set(event.data.n, Date.now()), {
      wakeBatchingWindowSeconds: 2,
    });
    try {
      expect(await firstRunOver(local)).toBe(true);

      // Act: three commits at once, read in one window
      const committedAt = Date.now();
      for (let n = 0; n < 3; n += 1) await local.eventLog.commit({ stream, type: 'order', data: { n } });
      const delivered = await until(() => handledAt.size === 3, DELIVERY_BOUND_MS);

      // Assess: one hand-over to the waker, no earlier than the window after the first commit
      expect(delivered).toBe(true);
      const wake = local.stats().wake;
      expect(wake?.wakerCalls).toBe(1);
      expect(wake?.wokenRuns).toBe(1);
      expect(Math.min(...handledAt.values()) - committedAt).toBeGreaterThanOrEqual(2_000);
    } finally {
      await local.stop();
    }
  });

  it('counts a commit the table’s stream shows stored after its settle window, as the deployed waker does', async () => {
    // Prepare
    const stream = uniqueName('orders');
    const local = await startWokenPipeline(stream, () => {});
    try {
      expect(await firstRunOver(local)).toBe(true);
      await local.eventLog.commit({ stream, type: 'order', data: { n: 1 } });

      // Act: a write stored two minutes after its ids were taken, as one applied long after its
      // commit was abandoned at the deadline (DynamoDB Local stamps stream records to the minute)
      const lateWriter = new EventLog({
        tableName: local.eventLog.tableName,
        client: dynamodbClient(),
        idGenerator: new EventIdGenerator({ now: () => Date.now() - 120_000 }),
      });
      await lateWriter.commit({ stream, type: 'order', data: { n: 2 } });
      const counted = await until(() => (local.stats().wake?.lateCommits ?? 0) > 0, DELIVERY_BOUND_MS);

      // Assess: the late one alone; the commit in time is not counted
      expect(counted).toBe(true);
      await pause(500);
      expect(local.stats().wake?.lateCommits).toBe(1);
    } finally {
      await local.stop();
    }
  });

  it('refuses a wakeBatchingWindowSeconds Lambda would not take, naming the value', async () => {
    await expect(
      startWokenPipeline(uniqueName('orders'), () => {}, { wakeBatchingWindowSeconds: 1.5 }),
    ).rejects.toThrow('wakeBatchingWindowSeconds must be between 0 and 300 (given 1.5)');
  });

  it("takes latency: 'low' as deployed: the stream stores a 300 ms window and a 200 ms deadline, and commits wake the fetcher", async () => {
    // Prepare
    const handled: string[] = [];
    const stream = uniqueName('orders');
    const local = await startWokenPipeline(stream, (event) => handled.push(event.id), { latency: 'low' });
    try {
      expect(await firstRunOver(local)).toBe(true);

      // Act
      const committed = await local.eventLog.commit({ stream, type: 'order', data: { n: 1 } });
      const delivered = await until(() => handled.includes(committed), DELIVERY_BOUND_MS);

      // Assess: delivered by a wake-up, under the stream's stored timing
      expect(delivered).toBe(true);
      expect(local.stats().fetcher.invocations).toBe(1);
      expect(local.stats().wake?.wokenRuns).toBeGreaterThanOrEqual(1);
      const { Item } = await dynamodbClient().send(
        new GetItemCommand({
          TableName: local.eventLog.tableName,
          Key: { pk: { S: `t#${stream}` }, sk: { S: 'timing' } },
          ConsistentRead: true,
        }),
      );
      expect(Item?.settleWindowMs?.N).toBe('300');
      expect(Item?.commitDeadlineMs?.N).toBe('200');
    } finally {
      await local.stop();
    }
  });

  it("runs the schedule alone with latency: 'economy'", async () => {
    const stream = uniqueName('orders');
    const local = await startWokenPipeline(stream, () => {}, {
      latency: 'economy',
      fetcherTimeoutSeconds: 2,
    });
    try {
      expect(local.stats().wake).toBeUndefined();
    } finally {
      await local.stop();
    }
  });
});
