import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxReceiveCountFor } from '../../infra/event-pipeline';
import { createWorker, EventLog, NonRetryableError, type WorkerOptions } from '../../lib';
import { MAX_ERROR_MESSAGE_BYTES } from '../../lib/failed/truncate';
import type { EnvelopeEvent } from '../../lib/messages/envelope';
import { FAULT_KINDS, injectFaults } from '../../lib/testing/faults';
import { WORKER_STEPS, type WorkerStepHook } from '../../lib/worker/types';
import {
  createQueueWithDeadLetterQueue,
  createStreamTable,
  dynamodbClient,
  sqsClient,
  uniqueName,
} from '../support/aws';
import { incompressibleText } from '../support/order-events';
import { drainQueue } from '../support/pipeline-fixture';
import {
  constructedRecord,
  envelopeEvents,
  lambdaContext,
  receiveAsLambdaEvent,
  sendEnvelopes,
} from '../support/worker-fixture';

// Every worker here runs with the settings a user gets: default packing (up to 100 events per
// message), maxRedeliveryCount 5, the default backoff, and the EventPipeline's maxReceiveCount.
/** `maxReceiveCountFor(5)`, the queue's redrive count the EventPipeline construct sets by default. */
const DEFAULT_MAX_RECEIVE_COUNT = 15;

type Order = { n: number };

const dynamodb = dynamodbClient();
const sqs = sqsClient();
let state: Awaited<ReturnType<typeof createStreamTable>>;
let events: Awaited<ReturnType<typeof createStreamTable>>;

beforeAll(async () => {
  [state, events] = await Promise.all([
    createStreamTable(dynamodb, 'state'),
    createStreamTable(dynamodb, 'events'),
  ]);
});
afterAll(async () => {
  await Promise.all([state.drop(), events.drop()]);
});

/** A worker on a fresh queue, with the default settings and whatever `options` add. */
async function setup(
  options: Partial<WorkerOptions<Order>> & { handle: WorkerOptions<Order>['handle'] },
  fifo = false,
) {
  const queue = await createQueueWithDeadLetterQueue(sqs, {
    maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT,
    visibilityTimeoutSeconds: 30,
    fifo,
  });
  const client = options.dynamodb ?? dynamodb;
  const log = new EventLog({ tableName: events.name, client });
  const worker = createWorker<Order>(
    {
      pipeline: uniqueName('pipe'),
      stateTable: state.name,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      queueUrl: queue.queueUrl,
      sqs,
      dynamodb: client,
      eventLog: log,
      ...options,
    } as WorkerOptions<Order>,
    {},
  );
  return { queue, worker, log };
}

/** Counts runs per event id. */
function counter() {
  const runs = new Map<string, number>();
  return {
    runs,
    add: (id: string) => runs.set(id, (runs.get(id) ?? 0) + 1),
  };
}

/** `count` events of one message, numbered from 0. */
function packedMessage(count: number, extra: Partial<EnvelopeEvent> = {}): EnvelopeEvent[] {
  return envelopeEvents(Array.from({ length: count }, (_, n) => ({ n }))).map((event) => ({
    ...event,
    ...extra,
  }));
}

/** How many output events each source event has in a stream: `{ [eventId]: count }`. */
async function outputsPerSource(log: EventLog, stream: string): Promise<Map<string, number>> {
  const { events: outputs } = await log.range(stream, { limit: 10_000 });
  const per = new Map<string, number>();
  for (const output of outputs) {
    const source = (output.data as { for: string }).for;
    per.set(source, (per.get(source) ?? 0) + 1);
  }
  return per;
}

/**
 * Delivers the same records again until the worker reports no failure, as the event source brings
 * failed messages back: a commit can miss its deadline on a loaded machine, and comes back then.
 * Resolves to the number of deliveries, or fails after `max`.
 */
async function deliverUntilSettled(
  worker: Awaited<ReturnType<typeof setup>>['worker'],
  batch: Awaited<ReturnType<typeof receiveAsLambdaEvent>>,
  max = 5,
): Promise<number> {
  for (let delivery = 1; delivery <= max; delivery += 1) {
    const outcome = await worker.processEvent(batch, lambdaContext()).catch((error: Error) => {
      if (/crash at/.test(error.message)) return undefined;
      throw error;
    });
    if (outcome && outcome.batchItemFailures.length === 0) return delivery;
  }
  throw new Error(`the message still came back after ${max} deliveries`);
}

/**
 * Dead-lettered events, once each: a delivery that comes back after its dead letters were sent
 * sends them again, which the failed-event handler recognises by id.
 */
function uniqueById(events: readonly EnvelopeEvent[]): EnvelopeEvent[] {
  return [...new Map(events.map((event) => [event.id, event])).values()];
}

describe('outputs beyond one transaction', () => {
  it('commits one output per event of a full 100-event message (101 writes with the marker) once', async () => {
    // Prepare
    const stream = uniqueName('invoices');
    const { queue, worker, log } = await setup({
      handle: async (event) => ({ stream, type: 'invoice', data: { for: event.id } }),
    });
    const sent = packedMessage(100);
    await sendEnvelopes(sqs, queue.queueUrl, [sent]);

    // Act: before, the message came back at once, for ever, with no outputs.
    const deliveries = await deliverUntilSettled(
      worker,
      await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn),
    );

    // Assess
    const per = await outputsPerSource(log, stream);
    expect(per.size).toBe(100);
    expect(sent.every((event) => per.get(event.id) === 1)).toBe(true);
    console.log(`100 outputs of one message: settled in ${deliveries} delivery(ies)`);
  });

  it.each([
    ['after the second chunk is committed', WORKER_STEPS.afterMarker],
    ['before the second chunk is committed', WORKER_STEPS.beforeMarker],
  ])(
    'commits 200 outputs of one message exactly once when the worker crashes %s',
    async (_when, crashStep) => {
      // Prepare: two outputs per event make three transactions (49 + 49 + 2 events).
      const stream = uniqueName('invoices');
      const { runs, add } = counter();
      let log: EventLog | undefined;
      let reached = 0;
      let atCrash: { runs: Map<string, number>; recorded: Map<string, number> } | undefined;
      const onStep: WorkerStepHook = async (step) => {
        if (step !== crashStep || atCrash) return;
        reached += 1;
        if (reached < 2) return;
        atCrash = { runs: new Map(runs), recorded: await outputsPerSource(log as EventLog, stream) };
        throw new Error(`crash at ${step} of the second chunk`);
      };
      const made = await setup({
        onStep,
        handle: async (event) => {
          add(event.id);
          return [
            { stream, type: 'invoice', data: { for: event.id } },
            { stream, type: 'receipt', data: { for: event.id } },
          ];
        },
      });
      log = made.log;
      const sent = packedMessage(100);
      await sendEnvelopes(sqs, made.queue.queueUrl, [sent]);

      // Act: the crash fails the whole invocation; the message comes back, as the event source does.
      await deliverUntilSettled(
        made.worker,
        await receiveAsLambdaEvent(sqs, made.queue.queueUrl, made.queue.queueArn),
      );

      // Assess: the crash came with at least one chunk landed, every event has its two outputs once,
      // and no event whose chunk had landed ran again.
      expect(atCrash).toBeDefined();
      const { recorded, runs: runsAtCrash } = atCrash as NonNullable<typeof atCrash>;
      expect(recorded.size).toBeGreaterThanOrEqual(49);
      expect([...recorded.values()].every((count) => count === 2)).toBe(true);
      const per = await outputsPerSource(made.log, stream);
      expect(per.size).toBe(100);
      expect([...per.values()].every((count) => count === 2)).toBe(true);
      const ranAgain = sent.filter((event) => runs.get(event.id) !== runsAtCrash.get(event.id));
      expect(ranAgain.filter((event) => recorded.has(event.id))).toEqual([]);
      expect(ranAgain.length).toBe(100 - recorded.size);
      console.log(
        `crash ${crashStep}: ${recorded.size} events recorded before it, ${ranAgain.length} ran again`,
      );
    },
  );

  it('hands an event whose outputs can never be committed to the failed handler once, and commits the rest', async () => {
    // Prepare: event 3 returns more outputs than a transaction holds, event 5 an invalid one.
    const stream = uniqueName('invoices');
    const { queue, worker, log } = await setup({
      handle: async (event) => {
        if (event.data.n === 3)
          return Array.from({ length: 150 }, () => ({ stream, type: 'line', data: { for: event.id } }));
        if (event.data.n === 5)
          return { stream: 'not a stream name!', type: 'line', data: { for: event.id } };
        return { stream, type: 'invoice', data: { for: event.id } };
      },
    });
    const sent = packedMessage(10);
    await sendEnvelopes(sqs, queue.queueUrl, [sent]);

    // Act: before, the message came back at once, for ever.
    await deliverUntilSettled(worker, await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn));

    // Assess: the two bad ones at the failed handler with their reasons, the others' outputs once.
    const per = await outputsPerSource(log, stream);
    expect(per.size).toBe(8);
    expect([...per.values()].every((count) => count === 1)).toBe(true);
    expect(per.has(sent[3]!.id) || per.has(sent[5]!.id)).toBe(false);
    const dead = uniqueById(
      (await drainQueue(sqs, queue.deadLetterQueueUrl)).flatMap((message) => message.envelope.events),
    );
    expect(dead.map((event) => [event.id, event.attempts, event.lastError?.name])).toEqual([
      [sent[3]!.id, 1, 'TooLargeError'],
      [sent[5]!.id, 1, 'ValidationError'],
    ]);
  });
});

describe('infrastructure failures', () => {
  /**
   * Runs deliveries of the queue's one message through the worker as the event source would, with a
   * clock of its own: each delivery takes a second (the SDK's own retries under throttling), then the
   * message stays away for the visibility timeout the worker asked for. The state table throttles
   * `operations` until `throttledForSeconds` have passed on that clock. The test then makes the
   * message visible at once instead of sleeping.
   */
  async function runThroughThrottling(operations: readonly string[], throttledForSeconds: number) {
    const throttled = dynamodbClient();
    const faults = injectFaults(
      throttled,
      { rate: 1, seed: 8, kinds: [FAULT_KINDS.throttle], operations, placement: 'per-call' },
      'state-table',
    );
    const watched = sqsClient();
    const asked: number[] = [];
    watched.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ChangeMessageVisibilityBatchCommand') {
          const input = args.input as { Entries: { VisibilityTimeout: number }[] };
          asked.push(...input.Entries.map((entry) => entry.VisibilityTimeout));
        }
        return next(args);
      },
      { step: 'initialize', name: 'recordVisibility' },
    );
    const stream = uniqueName('invoices');
    const attempts: number[] = [];
    const { queue, worker, log } = await setup({
      dynamodb: throttled,
      sqs: watched,
      handle: async (event) => {
        attempts.push(event.attempt);
        return { stream, type: 'invoice', data: { for: event.id } };
      },
    });
    const sent = packedMessage(2);
    await sendEnvelopes(sqs, queue.queueUrl, [sent]);

    let clockSeconds = 0;
    let deliveries = 0;
    for (;;) {
      faults.setEnabled(clockSeconds < throttledForSeconds);
      const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
      if (batch.Records.length === 0 || deliveries > 3 * DEFAULT_MAX_RECEIVE_COUNT) break;
      deliveries += 1;
      const before = asked.length;
      const outcome = await worker.processEvent(batch, lambdaContext());
      if (outcome.batchItemFailures.length === 0) break;
      clockSeconds += 1 + (asked.length > before ? (asked.at(-1) as number) : 0);
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queue.queueUrl,
          ReceiptHandle: batch.Records[0]!.receiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    }
    faults.setEnabled(false);
    return {
      sent,
      deliveries,
      asked,
      attempts,
      injected: faults.counts().injected,
      dead: await drainQueue(sqs, queue.deadLetterQueueUrl),
      per: await outputsPerSource(log, stream),
    };
  }

  it('backs off while marker writes are throttled for 15 s, spends no attempt, and dead-letters nothing', async () => {
    // Act
    const run = await runThroughThrottling(['TransactWriteItemsCommand', 'PutItemCommand'], 15);

    // Assess
    console.log(
      `15 s of throttled marker writes: ${run.deliveries} deliveries, ${run.injected} throttled calls, waits asked ${run.asked.join(', ')} s`,
    );
    expect(run.injected).toBeGreaterThan(0);
    expect(run.dead).toEqual([]);
    expect(run.per.size).toBe(2);
    expect([...run.per.values()]).toEqual([1, 1]);
    // Each delivery asks for a longer wait, and the handler always sees its first attempt.
    expect(run.asked.length).toBeGreaterThan(1);
    expect(
      run.asked.every((seconds, index) => index === 0 || seconds >= (run.asked[index - 1] as number)),
    ).toBe(true);
    expect(run.asked.every((seconds) => seconds >= 1)).toBe(true);
    expect(new Set(run.attempts)).toEqual(new Set([1]));
    expect(run.deliveries).toBeLessThan(DEFAULT_MAX_RECEIVE_COUNT / 2);
  });

  it('backs off, rather than failing the whole batch, when the markers cannot be read', async () => {
    // Act
    const run = await runThroughThrottling(['BatchGetItemCommand'], 10);

    // Assess
    expect(run.dead).toEqual([]);
    expect([...run.per.values()]).toEqual([1, 1]);
    expect(run.asked.length).toBeGreaterThan(0);
    expect(run.asked.every((seconds) => seconds >= 1)).toBe(true);
    expect(new Set(run.attempts)).toEqual(new Set([1]));
  });
});

describe('what a handler throws', () => {
  it('hands a NonRetryableError with a 2 MB message to the failed handler once, its message shortened', async () => {
    // Prepare
    const { runs, add } = counter();
    const { queue, worker } = await setup({
      handle: async (event) => {
        add(event.id);
        throw new NonRetryableError(`order ${event.data.n} refused: ${'details '.repeat(250_000)}`);
      },
    });
    const sent = packedMessage(1);
    await sendEnvelopes(sqs, queue.queueUrl, [sent]);

    // Act
    const outcome = await worker.processEvent(
      await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn),
      lambdaContext(),
    );

    // Assess
    expect(outcome.batchItemFailures).toEqual([]);
    expect(runs.get(sent[0]!.id)).toBe(1);
    const [dead] = await drainQueue(sqs, queue.deadLetterQueueUrl);
    const lastError = dead!.envelope.events[0]!.lastError!;
    expect(lastError.name).toBe('NonRetryableError');
    expect(lastError.message.startsWith('order 0 refused: details')).toBe(true);
    expect(Buffer.byteLength(lastError.message)).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
    expect(lastError.message).toMatch(/… \(cut from \d+ bytes\)$/);
  });

  it('cuts the last error further when an event near the SQS limit could not go to the dead-letter queue with it', async () => {
    // Prepare: one event whose message is within 4 KB of 1 MiB, of data compression cannot shrink.
    const { runs, add } = counter();
    const { queue, worker } = await setup({
      handle: async (event) => {
        add(event.id);
        throw new NonRetryableError('refused: '.repeat(2_000));
      },
    });
    const sent = packedMessage(1).map((event) => ({
      ...event,
      data: { n: 0, pad: incompressibleText(1_044_500) },
    }));
    await sendEnvelopes(sqs, queue.queueUrl, [sent]);

    // Act
    const deliveries = await deliverUntilSettled(
      worker,
      await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn),
    );

    // Assess
    expect([deliveries, runs.get(sent[0]!.id)]).toEqual([1, 1]);
    const [dead] = await drainQueue(sqs, queue.deadLetterQueueUrl);
    const lastError = dead!.envelope.events[0]!.lastError!;
    expect(lastError.name).toBe('NonRetryableError');
    expect(lastError.message).toMatch(/^refused: refused: .*… \(cut to fit in one SQS message\)$/);
  });

  it('splits the dead letters of a full message over as many SQS messages as their size needs', async () => {
    // Prepare: 100 events of 10 KB that do not compress (1 MB in one message), each failing with a long error.
    const { queue, worker } = await setup({
      handle: async () => {
        throw new NonRetryableError('refused: '.repeat(2_000));
      },
    });
    const sent = packedMessage(100).map((event, index) => ({
      ...event,
      data: { n: 1, pad: incompressibleText(10_000, index + 1) },
    }));
    await sendEnvelopes(sqs, queue.queueUrl, [sent]);

    // Act
    const outcome = await worker.processEvent(
      await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn),
      lambdaContext(),
    );

    // Assess
    expect(outcome.batchItemFailures).toEqual([]);
    const dead = await drainQueue(sqs, queue.deadLetterQueueUrl);
    expect(dead.length).toBeGreaterThan(1);
    const deadIds = dead.flatMap((message) => message.envelope.events.map((event) => event.id));
    expect(deadIds.sort()).toEqual(sent.map((event) => event.id).sort());
  });

  it('turns any thrown value into a well-formed failure, and the other events of the batch still land', async () => {
    // Prepare: 60 good events and three odd throws, on their last attempt (4 failed before).
    const stream = uniqueName('invoices');
    const odd: Record<number, () => unknown> = {
      60: () => Object.create(null),
      61: () => Object.assign(new Error('named by a number'), { name: 42 }),
      62: () => ({ code: 'E_DECLINED', retry: false }),
    };
    const { queue, worker, log } = await setup({
      handle: async (event) => {
        const thrown = odd[event.data.n];
        if (thrown) throw thrown();
        return { stream, type: 'invoice', data: { for: event.id } };
      },
    });
    const sent = packedMessage(63, { attempts: 4 });
    await sendEnvelopes(sqs, queue.queueUrl, [sent]);

    // Act
    await deliverUntilSettled(worker, await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn));

    // Assess
    const per = await outputsPerSource(log, stream);
    expect(per.size).toBe(60);
    expect([...per.values()].every((count) => count === 1)).toBe(true);
    const dead = uniqueById(
      (await drainQueue(sqs, queue.deadLetterQueueUrl)).flatMap((message) => message.envelope.events),
    );
    expect(dead.map((event) => [event.attempts, event.lastError?.name, event.lastError?.message])).toEqual([
      [5, 'Error', 'a value that is not an Error was thrown: {}'],
      [5, 'Error', 'named by a number'],
      [5, 'Error', 'a value that is not an Error was thrown: {"code":"E_DECLINED","retry":false}'],
    ]);
  });
});

describe('FIFO batches with several messages of one group', () => {
  /**
   * Delivers one message group as SQS and the Lambda event source do on AWS (the emulator returns one
   * message per group per receive, so the batches are built here): each delivery holds up to 10
   * messages of the group in order, each receive counts, a message received `maxReceiveCount` times
   * goes to the dead-letter queue instead, and the messages the worker does not report are deleted.
   */
  async function deliverGroup(
    worker: Awaited<ReturnType<typeof setup>>['worker'],
    messages: readonly EnvelopeEvent[][],
    maxReceiveCount: number,
  ) {
    const queued = messages.map((events) => ({ events, receives: 0 }));
    const movedBySqs: EnvelopeEvent[][] = [];
    let deliveries = 0;
    while (queued.length > 0 && deliveries < 500) {
      for (let index = 0; index < Math.min(10, queued.length); )
        if ((queued[index] as { receives: number }).receives >= maxReceiveCount)
          movedBySqs.push(queued.splice(index, 1)[0]!.events);
        else index += 1;
      const window = queued.slice(0, 10);
      if (window.length === 0) break;
      for (const message of window) message.receives += 1;
      const records = window.map((message) =>
        constructedRecord(message.events, { groupId: 'customer-7', receiveCount: message.receives }),
      );
      deliveries += 1;
      const { batchItemFailures } = await worker.processEvent({ Records: records }, lambdaContext());
      const retried = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
      for (const [index, record] of records.entries())
        if (!retried.has(record.messageId)) queued.splice(queued.indexOf(window[index]!), 1);
    }
    return { movedBySqs, deliveries };
  }

  it('tries every message behind four flaky ones before SQS would move it, at the default settings', async () => {
    // Prepare: the first four messages of the group fail four times each, then succeed.
    const handled: number[] = [];
    const { worker } = await setup(
      {
        handle: async (event) => {
          if (event.data.n < 4 && event.attempt < 5) throw new Error(`order ${event.data.n} is not ready`);
          handled.push(event.data.n);
        },
      },
      true,
    );
    const messages = packedMessage(10).map((event) => [event]);

    // Act
    const { movedBySqs, deliveries } = await deliverGroup(worker, messages, maxReceiveCountFor(5, 10));

    // Assess: nothing moved untried, and the group handled in order.
    console.log(`FIFO group of 10 behind 4 flaky messages: ${deliveries} deliveries`);
    expect(movedBySqs).toEqual([]);
    expect(handled).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('goes on with the rest of a group in the same batch when one message goes to the failed handler', async () => {
    // Prepare
    const handled: number[] = [];
    const { worker, queue } = await setup(
      {
        handle: async (event) => {
          if (event.data.n === 0) throw new NonRetryableError('order 0 can never be placed');
          handled.push(event.data.n);
        },
      },
      true,
    );
    const messages = packedMessage(5).map((event) => [event]);

    // Act
    const { movedBySqs, deliveries } = await deliverGroup(worker, messages, maxReceiveCountFor(5, 10));

    // Assess
    expect(deliveries).toBe(1);
    expect(movedBySqs).toEqual([]);
    expect(handled).toEqual([1, 2, 3, 4]);
    const dead = await drainQueue(sqs, queue.deadLetterQueueUrl);
    expect(dead.flatMap((message) => message.envelope.events.map((event) => event.id))).toEqual([
      messages[0]![0]!.id,
    ]);
  });
});
