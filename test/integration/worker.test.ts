import { GetItemCommand, PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createWorker, EventLog, NonRetryableError, type WorkerOptions } from '../../lib';
import { parseEnvelope } from '../../lib/messages/envelope';
import { markerKey } from '../../lib/worker/marker-store';
import { readPipelineCounters } from '../../lib/worker/pipeline-counters';
import {
  createQueueWithDeadLetterQueue,
  createStreamTable,
  dynamodbClient,
  sqsClient,
  uniqueName,
} from '../support/aws';
import { sleep } from '../support/fixtures';
import { drainQueue } from '../support/pipeline-fixture';
import {
  constructedRecord,
  envelopeEvents,
  lambdaContext,
  receiveAsLambdaEvent,
  sendEnvelopes,
} from '../support/worker-fixture';

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

async function setup(
  options: Partial<WorkerOptions<{ n: number; fail?: boolean }>> = {},
  env: Record<string, string> = {},
) {
  const queue = await createQueueWithDeadLetterQueue(sqs, {
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 50,
  });
  const calls = new Map<string, number>();
  const pipeline = uniqueName('pipe');
  const worker = createWorker<{ n: number; fail?: boolean }>(
    {
      pipeline,
      stateTable: state.name,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      queueUrl: queue.queueUrl,
      sqs,
      dynamodb,
      backoff: { baseDelaySeconds: 1, jitter: false },
      handle: async (event) => {
        calls.set(event.id, (calls.get(event.id) ?? 0) + 1);
        if (event.data.fail) throw new Error(`event ${event.data.n} failed on attempt ${event.attempt}`);
      },
      ...options,
    } as WorkerOptions<{ n: number; fail?: boolean }>,
    env,
  );
  return { queue, worker, calls, pipeline };
}

function count(calls: Map<string, number>, id: string): void {
  calls.set(id, (calls.get(id) ?? 0) + 1);
}

describe('worker batch semantics', () => {
  it('reports exactly the messages with a failed event, and does not re-run the events that succeeded', async () => {
    const { queue, worker, calls } = await setup();
    const [first, second, third] = [
      envelopeEvents([{ n: 1 }, { n: 2 }]),
      envelopeEvents([{ n: 3, fail: true }]),
      envelopeEvents([{ n: 4 }, { n: 5, fail: true }]),
    ];
    await sendEnvelopes(sqs, queue.queueUrl, [first!, second!, third!]);
    const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    const byBody = (n: number) =>
      batch.Records.find((record) =>
        parseEnvelope(record.body).events.some((event) => (event.data as { n: number }).n === n),
      )!;

    const result = await worker(batch, lambdaContext() as never);

    expect(result.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      [byBody(3).messageId, byBody(5).messageId].sort(),
    );
    const known = new Set(batch.Records.map((record) => record.messageId));
    expect(result.batchItemFailures.every((failure) => known.has(failure.itemIdentifier))).toBe(true);

    // The partly failed message comes back after its backoff; only its failed event runs again.
    await sleep(1_200);
    const again = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    expect(again.Records.map((record) => record.messageId).sort()).toEqual(
      [byBody(3).messageId, byBody(5).messageId].sort(),
    );
    const outcome = await worker.processEvent(again, lambdaContext());
    expect(calls.get(third![0]!.id)).toBe(1);
    expect(calls.get(third![1]!.id)).toBe(2);
    expect(outcome.stats).toMatchObject({ resumed: 1, duplicatesSkipped: 0, failed: 2 });
  });

  it('fails the whole batch when a batch handler throws', async () => {
    const { queue, worker } = await setup({
      handle: undefined,
      handleBatch: async () => {
        throw new Error('database down');
      },
    });
    await sendEnvelopes(sqs, queue.queueUrl, [
      envelopeEvents([{ n: 1 }]),
      envelopeEvents([{ n: 2 }, { n: 3 }]),
    ]);
    const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    const result = await worker(batch, lambdaContext() as never);
    expect(result.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      batch.Records.map((record) => record.messageId).sort(),
    );
  });

  it('hands a poison event to the dead-letter queue after maxRedeliveryCount attempts, with its last error, once', async () => {
    const { queue, worker, calls } = await setup({ maxRedeliveryCount: 3 });
    const [mates, poison] = [envelopeEvents([{ n: 1 }, { n: 2 }]), envelopeEvents([{ n: 3, fail: true }])];
    await sendEnvelopes(sqs, queue.queueUrl, [[...mates, ...poison]]);
    for (let round = 0; round < 3; round += 1) {
      const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
      expect(batch.Records).toHaveLength(1);
      await worker(batch, lambdaContext() as never);
      await sleep(round === 2 ? 0 : 1_100 * 2 ** round);
    }
    const dead = await drainQueue(sqs, queue.deadLetterQueueUrl);
    expect(dead).toHaveLength(1);
    const [deadEvent] = dead[0]!.envelope.events;
    expect(deadEvent).toMatchObject({
      id: poison[0]!.id,
      attempts: 3,
      lastError: { name: 'Error', message: 'event 3 failed on attempt 3' },
    });
    expect(calls.get(poison[0]!.id)).toBe(3);
    expect(mates.map((event) => calls.get(event.id))).toEqual([1, 1]);
    expect(await drainQueue(sqs, queue.queueUrl, 1)).toEqual([]);
  });

  it('sends an event that fails its schema, or throws NonRetryableError, to the dead-letter queue at once', async () => {
    const { queue, worker } = await setup({
      schemas: { order: z.object({ n: z.number().int().positive() }) },
      handle: async (event) => {
        if (event.data.n === 2) throw new NonRetryableError('order 2 can never be charged');
      },
    });
    await sendEnvelopes(sqs, queue.queueUrl, [envelopeEvents([{ n: -1 }, { n: 2 }, { n: 3 }])]);
    const result = await worker(
      await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn),
      lambdaContext() as never,
    );
    expect(result.batchItemFailures).toEqual([]);
    const [dead] = await drainQueue(sqs, queue.deadLetterQueueUrl);
    const errors = dead!.envelope.events.map((event) => [
      event.attempts,
      event.lastError?.name,
      event.lastError?.message,
    ]);
    expect(errors).toEqual([
      [
        1,
        'NonRetryableError',
        expect.stringMatching(/does not match its schema: n: .*positive|n: .*>0|n: Too small/),
      ],
      [1, 'NonRetryableError', 'order 2 can never be charged'],
    ]);
  });

  it('runs the effect of a message delivered twice only once, even when both deliveries run at the same time', async () => {
    const log = new EventLog({ tableName: events.name, client: dynamodb });
    const outputs = uniqueName('invoices');
    const { queue, worker, calls } = await setup({
      eventLog: log,
      handle: async (event) => {
        count(calls, event.id);
        return { stream: outputs, type: 'invoice', data: { for: event.id } };
      },
    });
    await sendEnvelopes(sqs, queue.queueUrl, [envelopeEvents([{ n: 1 }, { n: 2 }])]);
    const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    const [a, b] = await Promise.all([
      worker.processEvent(batch, lambdaContext()),
      worker.processEvent(batch, lambdaContext()),
    ]);
    const later = await worker.processEvent(batch, lambdaContext());
    expect([...a.batchItemFailures, ...b.batchItemFailures, ...later.batchItemFailures]).toEqual([]);
    expect(later.stats.duplicatesSkipped).toBe(2);
    const { events: invoices } = await log.range(outputs);
    expect(invoices).toHaveLength(2);
    console.log(
      `duplicates: handler ran ${[...calls.values()].reduce((x, y) => x + y, 0)} times for 2 events delivered 3 times; 2 output events committed`,
    );
  });

  it('commits the outputs of a partly failed message once when two deliveries of it run at the same time', async () => {
    const log = new EventLog({ tableName: events.name, client: dynamodb });
    const outputs = uniqueName('invoices');
    const { queue, worker, calls } = await setup({
      eventLog: log,
      handle: async (event) => {
        count(calls, event.id);
        if (event.data.fail && event.attempt === 1) throw new Error(`event ${event.data.n} failed once`);
        return { stream: outputs, type: 'invoice', data: { for: event.id } };
      },
    });
    // A fetcher that re-sent a page after a lost response: two messages carrying the same events.
    const sent = envelopeEvents([{ n: 1 }, { n: 2 }, { n: 3, fail: true }]);
    await sendEnvelopes(sqs, queue.queueUrl, [sent, sent]);
    const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    expect(batch.Records).toHaveLength(2);
    const [first, second] = batch.Records;
    const [a, b] = await Promise.all([
      worker.processEvent({ Records: [first!] }, lambdaContext()),
      worker.processEvent({ Records: [second!] }, lambdaContext()),
    ]);
    expect([...a.batchItemFailures, ...b.batchItemFailures]).toHaveLength(2);
    // Both come back; what is left of them (event 3) is handled once more, and nothing twice.
    await worker.processEvent(batch, lambdaContext(60_000));
    const { events: invoices } = await log.range(outputs);
    expect(invoices.map((invoice) => (invoice.data as { for: string }).for).sort()).toEqual(
      sent.map((event) => event.id).sort(),
    );
  });

  it('resumes from a marker written before markers had versions, and gives it one', async () => {
    const { queue, worker, calls, pipeline } = await setup();
    const sent = envelopeEvents([{ n: 1 }, { n: 2 }]);
    const key = {
      pk: {
        S: `marker#${pipeline}#${markerKey(
          sent.map((event) => event.id),
          { pipeline: 'orders-pipeline', epoch: 0 },
        )}`,
      },
      sk: { S: '-' },
    };
    await dynamodb.send(
      new PutItemCommand({
        TableName: state.name,
        Item: { ...key, status: { S: 'partial' }, completed: { SS: [sent[0]!.id] }, failures: { S: '{}' } },
      }),
    );
    await sendEnvelopes(sqs, queue.queueUrl, [sent]);
    const outcome = await worker.processEvent(
      await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn),
      lambdaContext(),
    );
    expect(outcome.stats).toMatchObject({ resumed: 1, succeeded: 1 });
    expect(sent.map((event) => calls.get(event.id))).toEqual([undefined, 1]);
    const { Item } = await dynamodb.send(
      new GetItemCommand({ TableName: state.name, Key: key, ConsistentRead: true }),
    );
    expect(Item).toMatchObject({ status: { S: 'done' }, version: { N: '1' } });
  });

  it('handles events again when a seek replays them (a new epoch), but skips a duplicate within an epoch', async () => {
    const { queue, worker, calls } = await setup();
    const events = envelopeEvents([{ n: 1 }, { n: 2 }]);
    for (const epoch of [0, 1, 1]) {
      await sendEnvelopes(sqs, queue.queueUrl, [events], { epoch });
      await worker.processEvent(
        await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn),
        lambdaContext(),
      );
    }
    expect(events.map((event) => calls.get(event.id))).toEqual([2, 2]);
    await sendEnvelopes(sqs, queue.queueUrl, [events], { pipeline: 'orders-pipeline.backfill.0a1b2c3d' });
    const backfill = await worker.processEvent(
      await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn),
      lambdaContext(),
    );
    expect(backfill.stats.duplicatesSkipped).toBe(0);
    expect(events.map((event) => calls.get(event.id))).toEqual([3, 3]);
  });

  it('commits output events atomically with the acknowledgement: when the commit fails, neither lands', async () => {
    const faulty = dynamodbClient();
    let failCommits = true;
    faulty.middlewareStack.add(
      (next, context) => async (args) => {
        if (failCommits && context.commandName === TransactWriteItemsCommand.name) {
          throw Object.assign(new Error('injected: service unavailable'), {
            name: 'InternalServerError',
            $fault: 'server',
            $metadata: { httpStatusCode: 500 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failCommits' },
    );
    const log = new EventLog({ tableName: events.name, client: faulty });
    const outputs = uniqueName('receipts');
    const { queue, worker, pipeline } = await setup({
      eventLog: log,
      dynamodb: faulty,
      handle: async () => ({ stream: outputs, type: 'receipt', data: {} }),
    });
    const sent = envelopeEvents([{ n: 1 }]);
    await sendEnvelopes(sqs, queue.queueUrl, [sent]);
    const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    const marker = async () => {
      const key = {
        pk: {
          S: `marker#${pipeline}#${markerKey(
            sent.map((event) => event.id),
            { pipeline: 'orders-pipeline', epoch: 0 },
          )}`,
        },
        sk: { S: '-' },
      };
      return (
        await dynamodb.send(new GetItemCommand({ TableName: state.name, Key: key, ConsistentRead: true }))
      ).Item;
    };

    const failed = await worker.processEvent(batch, lambdaContext());
    expect(failed.batchItemFailures).toHaveLength(1);
    expect((await log.range(outputs)).events).toEqual([]);
    expect(await marker()).toBeUndefined();

    failCommits = false;
    const retried = await worker.processEvent(batch, lambdaContext());
    expect(retried.batchItemFailures).toEqual([]);
    expect((await log.range(outputs)).events).toHaveLength(1);
    expect((await marker())?.status?.S).toBe('done');
    // A done marker is skipped whole, so it carries no list of event ids (one write unit).
    expect((await marker())?.completed).toBeUndefined();
  });

  it('moves a message that is not a Sluice message to the dead-letter queue and handles the rest', async () => {
    const { queue, worker, calls } = await setup();
    await sendEnvelopes(sqs, queue.queueUrl, [envelopeEvents([{ n: 1 }])]);
    const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    const foreign = {
      ...batch.Records[0]!,
      messageId: 'foreign-1',
      body: '{"Type":"Notification","Message":"hello"}',
    };
    const result = await worker({ Records: [...batch.Records, foreign] }, lambdaContext() as never);
    expect(result.batchItemFailures).toEqual([]);
    expect(calls.size).toBe(1);
    const dead = await dynamodbIndependentReceive(queue.deadLetterQueueUrl);
    expect(dead).toEqual(['{"Type":"Notification","Message":"hello"}']);
  });
});

describe('worker ordering, deadlines and backoff', () => {
  it('on FIFO, stops a message group at its first failure and keeps the other groups going', async () => {
    const { worker, calls } = await setup();
    const [a1, a2, a3, b1, b2] = [
      envelopeEvents([{ n: 1 }]),
      envelopeEvents([{ n: 2, fail: true }]),
      envelopeEvents([{ n: 3 }]),
      envelopeEvents([{ n: 4 }]),
      envelopeEvents([{ n: 5 }]),
    ];
    const records = [
      constructedRecord(a1!, { groupId: 'a' }),
      constructedRecord(b1!, { groupId: 'b' }),
      constructedRecord(a2!, { groupId: 'a' }),
      constructedRecord(a3!, { groupId: 'a' }),
      constructedRecord(b2!, { groupId: 'b' }),
    ];
    const result = await worker.processEvent({ Records: records }, lambdaContext());
    expect(result.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual([
      records[2]!.messageId,
      records[3]!.messageId,
    ]);
    expect(calls.has(a3![0]!.id)).toBe(false);
    expect([a1, a2, b1, b2].map((events) => calls.get(events![0]!.id))).toEqual([1, 1, 1, 1]);
    expect(result.stats.unstarted).toBe(1);
  });

  it('starts no event once the remaining time is below the margin, and reports those as failures', async () => {
    let remaining = 8_000;
    const calls = new Map<string, number>();
    const { queue, worker } = await setup({
      concurrency: 1,
      deadlineMarginMs: 5_000,
      handle: async (event) => {
        count(calls, event.id);
        remaining -= 2_000;
      },
    });
    await sendEnvelopes(sqs, queue.queueUrl, [
      envelopeEvents([{ n: 1 }]),
      envelopeEvents([{ n: 2 }]),
      envelopeEvents([{ n: 3 }]),
      envelopeEvents([{ n: 4 }]),
    ]);
    const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    const result = await worker.processEvent(
      batch,
      lambdaContext(() => remaining),
    );
    expect(calls.size).toBe(2);
    expect(result.batchItemFailures).toHaveLength(2);
    expect(result.stats).toMatchObject({ succeeded: 2, unstarted: 2 });
    // Unstarted messages come back at once, not after a backoff.
    const again = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    expect(again.Records).toHaveLength(2);
  });

  it('keeps a failed message away for its backoff, then lets it come back', async () => {
    const { queue, worker } = await setup({ backoff: { baseDelaySeconds: 2, jitter: false } });
    await sendEnvelopes(sqs, queue.queueUrl, [envelopeEvents([{ n: 1, fail: true }])]);
    await worker(await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn), lambdaContext() as never);
    const started = Date.now();
    expect((await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn)).Records).toHaveLength(0);
    await sleep(2_100);
    const back = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    expect(back.Records).toHaveLength(1);
    console.log(`backoff: the failed message came back after ${Date.now() - started} ms (2 s asked)`);
  });
});

describe('manual mode', () => {
  it('acks and fails events one by one; unsettled events fail; unknown ids are refused', async () => {
    let refused = '';
    const { queue, worker } = await setup({
      handle: undefined,
      manual: async (batch, context) => {
        context.ack(batch[0]!.id);
        context.fail(batch[1]!.id, { reason: 'try later', retryAfterSeconds: 1 });
        try {
          context.ack('not-an-event');
        } catch (error) {
          refused = (error as Error).message;
        }
      },
    });
    await sendEnvelopes(sqs, queue.queueUrl, [
      envelopeEvents([{ n: 1 }]),
      envelopeEvents([{ n: 2 }]),
      envelopeEvents([{ n: 3 }]),
    ]);
    const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    const result = await worker.processEvent(batch, lambdaContext());
    expect(result.batchItemFailures).toHaveLength(2);
    expect(result.stats).toMatchObject({ succeeded: 1, failed: 2 });
    expect(refused).toMatch(/not events of this batch: not-an-event/);
  });
});

describe('worker configuration', () => {
  it('fails at construction naming every bad option', () => {
    expect(() =>
      createWorker(
        {
          handle: async () => {},
          handleBatch: async () => {},
          concurrency: 0,
          maxRedeliveryCount: 1.5,
          colour: 'red',
        } as never,
        {},
      ),
    ).toThrow(
      /unknown option 'colour'.*give exactly one of handle, handleBatch and manual \(given handle, handleBatch\).*pipeline \(or SLUICE_PIPELINE\).*stateTable.*deadLetterQueueUrl.*concurrency must be a whole number from 1 to 1000 \(given 0\).*maxRedeliveryCount .* \(given 1.5\)/,
    );
  });
});

describe('worker logs', () => {
  /** A logger that keeps what it is given. */
  function recordingLogger() {
    const lines: { level: string; message: string; attributes: unknown }[] = [];
    const record =
      (level: string) =>
      (message: string, attributes?: unknown): void => {
        lines.push({ level, message, attributes });
      };
    const logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    return { lines, logger: logger as unknown as NonNullable<WorkerOptions['logger']> };
  }

  it.each([
    ["leaves event data out of a failed event's log line", false],
    ['puts event data in it when includeSensitiveData is set', true],
  ])('%s', async (_title, includeSensitiveData) => {
    const expectData = includeSensitiveData;
    // Prepare
    const { lines, logger } = recordingLogger();
    const { queue, worker } = await setup({ logger, includeSensitiveData, maxRedeliveryCount: 2 });
    const [event] = envelopeEvents([{ n: 4242, fail: true }]);
    await sendEnvelopes(sqs, queue.queueUrl, [[event!]]);

    // Act
    await worker.processEvent(
      await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn),
      lambdaContext(),
    );

    // Assess
    const failures = lines.filter((line) => line.message.startsWith('event failed'));
    expect(failures).toEqual([
      {
        level: 'warn',
        message: 'event failed; it will be tried again',
        attributes: expect.objectContaining({
          eventId: event!.id,
          attempt: 1,
          error: { name: 'Error', message: 'event 4242 failed on attempt 1' },
        }),
      },
    ]);
    expect(JSON.stringify(lines).includes('"n":4242')).toBe(expectData);
  });
});

describe('worker settings from the environment, as the EventPipeline construct sets them', () => {
  it('gives an event SLUICE_MAX_REDELIVERY_COUNT attempts', async () => {
    // Prepare
    const { queue, worker, calls, pipeline } = await setup({}, { SLUICE_MAX_REDELIVERY_COUNT: '1' });
    const [poison] = envelopeEvents([{ n: 1, fail: true }]);
    await sendEnvelopes(sqs, queue.queueUrl, [[poison!]]);

    // Act
    const outcome = await worker.processEvent(
      await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn),
      lambdaContext(),
    );

    // Assess
    expect(outcome.stats).toMatchObject({ deadLettered: 1 });
    expect(calls.get(poison!.id)).toBe(1);
    const dead = await drainQueue(sqs, queue.deadLetterQueueUrl);
    expect(dead[0]?.envelope.events[0]).toMatchObject({ id: poison!.id, attempts: 1 });
    // The pipeline's running totals, which `sluice status` shows.
    expect(await readPipelineCounters(dynamodb, state.name, pipeline)).toMatchObject({
      handled: 0,
      failed: 1,
      deadLettered: 1,
      averageLatencyMs: null,
    });
  });

  it('publishes each batch under SLUICE_METRICS_NAMESPACE, with the sluice-worker service and the pipeline', async () => {
    // Prepare: Powertools writes EMF to the console only in dev mode, which turns metrics off unless told.
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const { queue, worker, pipeline } = await setup({}, { SLUICE_METRICS_NAMESPACE: 'SluiceTest' });
      await sendEnvelopes(sqs, queue.queueUrl, [envelopeEvents([{ n: 1 }, { n: 2 }, { n: 3, fail: true }])]);

      // Act
      await worker.processEvent(
        await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn),
        lambdaContext(),
      );

      // Assess
      const documents = log.mock.calls
        .map(([line]) => {
          try {
            return JSON.parse(String(line)) as Record<string, unknown> & {
              _aws?: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
            };
          } catch {
            return undefined;
          }
        })
        .filter((document) => document?._aws !== undefined);
      expect(documents).toHaveLength(1);
      const [document] = documents;
      expect(document?._aws?.CloudWatchMetrics[0]).toMatchObject({
        Namespace: 'SluiceTest',
        Dimensions: [['service', 'pipeline']],
      });
      expect(document).toMatchObject({
        service: 'sluice-worker',
        pipeline,
        EventsHandled: 2,
        EventsFailed: 1,
        EventsDeadLettered: 0,
      });
      // Commit-to-handled latency, averaged over the two events that succeeded: they were made just now.
      expect(document?.AverageLatencyMs).toEqual(expect.any(Number));
      expect(document?.AverageLatencyMs as number).toBeLessThan(60_000);
    } finally {
      vi.unstubAllEnvs();
      vi.restoreAllMocks();
    }
  });

  it.each([
    [
      { SLUICE_MAX_REDELIVERY_COUNT: 'five' },
      /SLUICE_MAX_REDELIVERY_COUNT must be a whole number from 1 to 99 \(given "five"\)/,
    ],
    [
      { SLUICE_MAX_REDELIVERY_COUNT: '0' },
      /SLUICE_MAX_REDELIVERY_COUNT must be a whole number from 1 to 99 \(given "0"\)/,
    ],
    [
      { SLUICE_METRICS_NAMESPACE: 'a:b' },
      /SLUICE_METRICS_NAMESPACE must be 1 to 255 characters without ':' \(given "a:b"\)/,
    ],
  ])('fails at construction on %o, naming the variable and the value', (env, message) => {
    expect(() =>
      createWorker(
        {
          pipeline: 'billing',
          stateTable: 'state',
          deadLetterQueueUrl: 'https://example.com/1/dlq',
          handle: async () => {},
        },
        env,
      ),
    ).toThrow(message);
  });
});

async function dynamodbIndependentReceive(queueUrl: string): Promise<string[]> {
  const output = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  return (output.Messages ?? []).map((message) => message.Body ?? '');
}
