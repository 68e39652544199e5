import { DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker, type EventInput, type EventLog, type PipelineDefinition } from '../../lib';
import { DEFAULT_SETTLE_WINDOW_MS } from '../../lib/event-log/constants';
import { FETCHER_STEPS, type FetcherStep } from '../../lib/fetcher/types';
import { EventIdGenerator } from '../../lib/time/event-id';
import { createQueueWithDeadLetterQueue, type QueueWithDeadLetterQueue } from '../support/aws';
import { sleep } from '../support/fixtures';
import { createPipelineFixture } from '../support/pipeline-fixture';
import { lambdaContext, receiveAsLambdaEvent } from '../support/worker-fixture';

type Reading = { n: number };
const HOUR = 3_600_000;
let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;

beforeAll(async () => {
  fixture = await createPipelineFixture();
}, 60_000);
afterAll(() => fixture.drop());

/**
 * A producer that keeps committing, on a clock of its own that starts two hours ago and moves 20 ms
 * per event, and the event log a fetcher reads it through: its settled horizon is the producer's
 * last event, so each commit lands after every checkpoint, as live events do, with no waiting.
 */
function producer(stream: string, keys: number, options: { readonly unsettledMs?: number } = {}) {
  let now = Date.now() - 2 * HOUR;
  // With `unsettledMs`, the newest events (those of the last `unsettledMs`) stay past the horizon
  // until `settle()`.
  let unsettledMs = options.unsettledMs ?? 0;
  const log = fixture.eventLog({ idGenerator: new EventIdGenerator({ now: () => (now += 20) }) });
  const source = fixture.eventLog({ clock: () => now + DEFAULT_SETTLE_WINDOW_MS - unsettledMs });
  let next = 0;
  const committed: string[] = [];
  return {
    committed,
    source,
    settle(): void {
      unsettledMs = 0;
    },
    async commit(count: number): Promise<void> {
      const inputs: EventInput[] = Array.from({ length: count }, () => {
        const n = next++;
        return { stream, type: 'reading', data: { n }, partitionKey: `key-${n % keys}` };
      });
      // Small commits: each must land within the log's commit deadline on a busy machine.
      for (let start = 0; start < inputs.length; start += 10)
        committed.push(...(await log.commit(inputs.slice(start, start + 10))));
    },
  };
}

/** The pipeline's worker, as its Lambda runs it: each effect is an output committed with its marker. */
function workerFor(name: string, queue: QueueWithDeadLetterQueue, outputs: string, log: EventLog) {
  return createWorker<Reading>(
    {
      pipeline: name,
      stateTable: fixture.store.tableName,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      queueUrl: queue.queueUrl,
      sqs: fixture.sqs,
      dynamodb: fixture.dynamodb,
      eventLog: log,
      handle: async (event) => ({
        stream: outputs,
        type: 'effect',
        data: { source: event.id, key: event.partitionKey, n: event.data.n },
      }),
    },
    {},
  );
}

/** Receives and handles batches, as the Lambda event source would: `rounds` of them, or until the queue stays empty. */
async function runWorker(
  name: string,
  queue: QueueWithDeadLetterQueue,
  outputs: string,
  log: EventLog,
  rounds = Number.POSITIVE_INFINITY,
) {
  const worker = workerFor(name, queue, outputs, log);
  let idle = 0;
  for (let round = 0; round < rounds && idle < 2; round += 1) {
    const batch = await receiveAsLambdaEvent(fixture.sqs, queue.queueUrl, queue.queueArn);
    if (batch.Records.length > 0) {
      idle = 0;
      const { batchItemFailures } = await worker(batch, lambdaContext() as never);
      // As the Lambda event source does: delete what the worker did not report as failed.
      const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
      const done = batch.Records.filter((record) => !failed.has(record.messageId));
      if (done.length > 0)
        await fixture.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queue.queueUrl,
            Entries: done.map((record, index) => ({
              Id: String(index),
              ReceiptHandle: record.receiptHandle,
            })),
          }),
        );
    } else idle += 1;
  }
}

/** Effects per event id, and the handled order of each partition key. */
async function effectsOf(outputs: string, log: EventLog) {
  const { events } = await log.range(outputs, { limit: 10_000 });
  const perEvent = new Map<string, number>();
  const orderByKey = new Map<string, number[]>();
  for (const event of events) {
    const { source, key, n } = event.data as { source: string; key: string; n: number };
    perEvent.set(source, (perEvent.get(source) ?? 0) + 1);
    orderByKey.set(key, [...(orderByKey.get(key) ?? []), n]);
  }
  let inversions = 0;
  for (const order of orderByKey.values())
    for (let index = 1; index < order.length; index += 1)
      if ((order[index] as number) < (order[index - 1] as number)) inversions += 1;
  return { perEvent, inversions, total: events.length };
}

async function pipelineWithQueue(name: string, fifo: boolean, extra: Partial<PipelineDefinition> = {}) {
  const queue = await createQueueWithDeadLetterQueue(fixture.sqs, {
    fifo,
    visibilityTimeoutSeconds: 60,
    maxReceiveCount: 15,
  });
  const stream = `${fixture.stream}-${name}`;
  await fixture.store.putPipeline({ name, stream, queueUrl: queue.queueUrl, start: 'earliest', ...extra });
  return { queue, stream, outputs: `${stream}-out` };
}

/** A fetcher of one pipeline, on a short lease, that crashes the `reaching`th time it reaches `crashAt`. */
function crashingFetcher(name: string, source: EventLog, crashAt: FetcherStep, reaching: number) {
  let reached = 0;
  return fixture.fetcher({
    source,
    owner: 'crashing',
    pipelines: [name],
    leaseDurationMs: 1_000,
    onStep: (step) => {
      if (step === crashAt && ++reached === reaching) throw new Error(`crash at ${step}`);
    },
  });
}

function expectExactlyOnce(committed: readonly string[], perEvent: ReadonlyMap<string, number>) {
  const twice = committed.filter((id) => (perEvent.get(id) ?? 0) > 1);
  const never = committed.filter((id) => !perEvent.has(id));
  expect({ twice: twice.length, never: never.length }).toEqual({ twice: 0, never: 0 });
}

describe('a fetcher that dies after sending while a producer keeps committing', () => {
  // Steps a run reaches once crash there; the others crash at their second reaching, so that the
  // first page is checkpointed and the second is not.
  const once: readonly FetcherStep[] = [FETCHER_STEPS.afterLease, FETCHER_STEPS.beforeRelease];
  for (const fifo of [false, true]) {
    it.each(Object.values(FETCHER_STEPS))(
      `${fifo ? 'FIFO' : 'standard'}: a crash at %s, then more events: every event has one effect, in order per key`,
      async (crashAt) => {
        const name = `crash-${fifo ? 'fifo' : 'std'}-${crashAt}`;
        const { queue, stream, outputs } = await pipelineWithQueue(name, fifo, { pageSize: 20 });
        const log = fixture.eventLog();
        const events = producer(stream, 3);
        const source = events.source;
        await events.commit(30);
        const crashing = crashingFetcher(name, source, crashAt, once.includes(crashAt) ? 1 : 2);
        await crashing.run({ budgetMs: 20_000, untilCaughtUp: true }).catch(() => undefined);
        await events.commit(10);
        await sleep(1_050);
        const restarted = await fixture
          .fetcher({ source, owner: 'restarted', pipelines: [name] })
          .run({ budgetMs: 20_000, untilCaughtUp: true });
        expect(restarted.pipelines[name]?.stopReason).toBe('caught up');

        await runWorker(name, queue, outputs, log);
        const { perEvent, inversions } = await effectsOf(outputs, log);
        expectExactlyOnce(events.committed, perEvent);
        if (fifo) expect(inversions).toBe(0);
      },
    );
  }

  it.each([false, true])(
    'a fetcher that loses its lease after sending (FIFO: %s): its successor re-sends the same messages',
    async (fifo) => {
      const name = `lease-lost-${fifo}`;
      const { queue, stream, outputs } = await pipelineWithQueue(name, fifo, { pageSize: 20 });
      const log = fixture.eventLog();
      const events = producer(stream, 3);
      const source = events.source;
      await events.commit(30);
      let stalls = 0;
      const stalled = fixture.fetcher({
        source,
        owner: 'stalled',
        pipelines: [name],
        leaseDurationMs: 1_000,
        onStep: async (step) => {
          if (step === FETCHER_STEPS.afterSend && ++stalls === 2) await sleep(1_600);
        },
      });
      const stalledRun = stalled.run({ budgetMs: 20_000, untilCaughtUp: true });
      while (stalls < 2) await sleep(20);
      await events.commit(10);
      await sleep(1_100);
      await fixture
        .fetcher({ source, owner: 'successor', pipelines: [name] })
        .run({ budgetMs: 20_000, untilCaughtUp: true });
      expect((await stalledRun).pipelines[name]?.stopReason).toBe('lease lost');

      await runWorker(name, queue, outputs, log);
      const { perEvent, inversions } = await effectsOf(outputs, log);
      expectExactlyOnce(events.committed, perEvent);
      expect(inversions).toBe(0);
    },
  );
});

describe('a FIFO pipeline at bufferSize', () => {
  it.each([
    ['a small bufferSize that is reached', 2],
    ['the default bufferSize', undefined],
  ])('%s: every event has one effect, in order per partition key', async (_, bufferSize) => {
    const name = `fifo-buffer-${bufferSize ?? 'default'}`;
    const { queue, stream, outputs } = await pipelineWithQueue(name, true, {
      ...(bufferSize === undefined ? {} : { bufferSize }),
    });
    const log = fixture.eventLog();
    const events = producer(stream, 8);
    const source = events.source;
    await events.commit(200);
    const stops: string[] = [];
    for (let round = 0; round < 400; round += 1) {
      const summary = await fixture
        .fetcher({ source, pipelines: [name] })
        .run({ budgetMs: 20_000, untilCaughtUp: true });
      stops.push(summary.pipelines[name]?.stopReason ?? '');
      if (summary.pipelines[name]?.stopReason === 'caught up') break;
      // The worker makes room: one receive, as a Lambda poller would.
      await runWorker(name, queue, outputs, log, 1);
    }
    await runWorker(name, queue, outputs, log);
    if (bufferSize !== undefined)
      expect(stops.some((reason) => reason.startsWith('backpressure'))).toBe(true);
    const { perEvent, inversions } = await effectsOf(outputs, log);
    expectExactlyOnce(events.committed, perEvent);
    expect(inversions).toBe(0);
  });
});

describe('a fetcher that dies while sending events ahead of the settled horizon', () => {
  // Each step at its first reaching and, for steps a run reaches more than once, its second: the
  // first sends the events ahead, so the crash falls between the plan's write and its send, or after.
  const once: readonly FetcherStep[] = [FETCHER_STEPS.afterLease, FETCHER_STEPS.beforeRelease];
  const crashes = Object.values(FETCHER_STEPS).flatMap((step) =>
    once.includes(step) ? [[step, 1] as const] : [[step, 1] as const, [step, 2] as const],
  );
  it.each(crashes)(
    'a crash at %s (reached %i times), then more events: every event has one effect',
    async (crashAt, reaching) => {
      const name = `ahead-crash-${crashAt}-${reaching}`;
      const { queue, stream, outputs } = await pipelineWithQueue(name, false, { pageSize: 20 });
      const log = fixture.eventLog();
      // The last 200 ms of the producer's clock (ten events) are always past the horizon.
      const events = producer(stream, 3, { unsettledMs: 200 });
      const source = events.source;
      await events.commit(30);
      const crashing = crashingFetcher(name, source, crashAt, reaching);
      // Tailing runs send ahead; a run that returns once caught up does not.
      await crashing.run({ budgetMs: 1_500 }).catch(() => undefined);
      await events.commit(10);
      await sleep(1_050);
      const tailing = await fixture
        .fetcher({ source, owner: 'restarted', pipelines: [name] })
        .run({ budgetMs: 1_500 });
      await events.commit(5);
      events.settle();
      const caughtUp = await fixture
        .fetcher({ source, owner: 'last', pipelines: [name] })
        .run({ budgetMs: 20_000, untilCaughtUp: true });
      expect(caughtUp.pipelines[name]?.stopReason).toBe('caught up');

      await runWorker(name, queue, outputs, log);
      const { perEvent } = await effectsOf(outputs, log);
      expectExactlyOnce(events.committed, perEvent);
      expect(tailing.pipelines[name]?.counts.eventsSentAhead ?? 0).toBeGreaterThan(0);
      const state = await fixture.store.getState(name);
      expect(state?.sentAhead).toBeUndefined();
    },
  );
});
