import type { Logger } from '@aws-lambda-powertools/logger';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitError, createWorker, EventLog } from '../../lib';
import { handleDeadLetters } from '../../lib/failed/dlq-consumer';
import { FailureStore } from '../../lib/failed/failure-store';
import { Fetcher } from '../../lib/fetcher/fetcher';
import { ENVELOPE_VERSION, envelopeBody } from '../../lib/messages/envelope';
import { PipelineStore } from '../../lib/state/pipeline-store';
import { EventIdGenerator } from '../../lib/time/event-id';
import {
  createQueueWithDeadLetterQueue,
  createStreamTable,
  dynamodbClient,
  sqsClient,
  uniqueName,
} from '../support/aws';
import { drainBodies } from '../support/pipeline-fixture';
import {
  envelopeEvents,
  lambdaContext,
  receiveAsLambdaEvent,
  sendEnvelopes,
} from '../support/worker-fixture';

// The bad-input corpus, part two: bad messages that reach a queue, and resources that do not exist.
// A bad message goes to the dead-letter queue with an error naming the problem and the value, and
// the good message beside it in the same batch is handled in the same invocation: not lost, and not
// delayed by a retry. Part one is test/unit/bad-input.test.ts.

const dynamodb = dynamodbClient();
const sqs = sqsClient();
let state: Awaited<ReturnType<typeof createStreamTable>>;
beforeAll(async () => {
  state = await createStreamTable(dynamodb, 'state');
});
afterAll(() => state.drop());

const good = envelopeEvents([{ n: 1 }]);
const [goodEvent] = good;
const id = goodEvent!.id;
const event = (fields: Record<string, unknown>) => JSON.stringify({ id, type: 'order', data: {}, ...fields });
const envelope = (fields: Record<string, unknown>) =>
  JSON.stringify({
    sluice: ENVELOPE_VERSION,
    pipeline: 'orders-pipeline',
    stream: 'orders',
    events: [JSON.parse(event({}))],
    ...fields,
  });
const packed = envelopeBody(
  { pipeline: 'orders-pipeline', stream: 'orders' },
  envelopeEvents([{ n: 1 }, { n: 2 }, { n: 3 }]),
);

const badMessages: readonly { readonly input: string; readonly body: string; readonly error: string }[] = [
  { input: 'a body that is not JSON', body: 'not json at all', error: 'its body is not JSON' },
  { input: 'a body of blanks', body: '   ', error: 'its body is not JSON' },
  {
    input: 'a foreign message (an S3 notification)',
    body: '{"Records":[{"eventSource":"aws:s3"}]}',
    error: 'sluice: Invalid input: expected 1 (given undefined)',
  },
  {
    input: 'an SNS notification wrapping an envelope',
    body: JSON.stringify({ Type: 'Notification', Message: envelope({}) }),
    error: 'sluice: Invalid input: expected 1 (given undefined)',
  },
  {
    input: 'an envelope of version 3',
    body: envelope({ sluice: 3 }),
    error: 'sluice: Invalid input: expected 1 (given 3)',
  },
  {
    input: 'a compressed envelope whose events are corrupt',
    body: envelope({
      sluice: 2,
      codec: 'deflate-raw',
      events: Buffer.from('not deflate').toString('base64'),
    }),
    error: 'events: does not decompress with deflate-raw',
  },
  {
    input: 'a packed message cut short (a corrupt body)',
    body: packed.slice(0, Math.floor(packed.length / 2)),
    error: 'its body is not JSON',
  },
  {
    input: 'an event id that is not a Sluice id',
    body: envelope({ events: [JSON.parse(event({ id: 'order-17' }))] }),
    error: 'events.0.id: not a Sluice event id (given "order-17")',
  },
  {
    input: 'an envelope with no events',
    body: envelope({ events: [] }),
    error: 'events: Too small: expected array to have >=1 items (given [])',
  },
  {
    input: 'a negative replay epoch',
    body: envelope({ epoch: -1 }),
    error: 'epoch: Too small: expected number to be >=0 (given -1)',
  },
  {
    input: 'an event with an empty type',
    body: envelope({ events: [JSON.parse(event({ type: '' }))] }),
    error: 'events.0.type: Too small: expected string to have >=1 characters (given "")',
  },
  {
    input: 'an event with no type',
    body: envelope({ events: [{ id, data: {} }] }),
    error: 'events.0.type: Invalid input: expected string, received undefined (given undefined)',
  },
];

describe('bad messages in the queue', () => {
  it.each(badMessages)(
    'moves $input to the DLQ, naming the problem, and handles the good message beside it',
    async ({ body, error }) => {
      const queue = await createQueueWithDeadLetterQueue(sqs, {
        visibilityTimeoutSeconds: 30,
        maxReceiveCount: 5,
      });
      const handled: string[] = [];
      const logged: string[] = [];
      const logger = {
        warn: () => {},
        error: (_message: string, extra: { error?: string }) => void logged.push(extra.error ?? ''),
      } as unknown as Logger;
      const worker = createWorker(
        {
          pipeline: uniqueName('pipe'),
          stateTable: state.name,
          queueUrl: queue.queueUrl,
          deadLetterQueueUrl: queue.deadLetterQueueUrl,
          sqs,
          dynamodb,
          logger,
          handle: (event) => void handled.push(event.id),
        },
        {},
      );
      const fresh = envelopeEvents([{ n: 2 }]);
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: body }));
      await sendEnvelopes(sqs, queue.queueUrl, [fresh]);
      const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
      expect(batch.Records).toHaveLength(2);

      const outcome = await worker.processEvent(batch, lambdaContext());

      expect(outcome.batchItemFailures).toEqual([]);
      expect(outcome.stats).toMatchObject({ malformed: 1, succeeded: 1 });
      expect(handled).toEqual([fresh[0]!.id]);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain(error);
      expect(await drainBodies(sqs, queue.deadLetterQueueUrl, { expected: 1 })).toEqual([body]);
    },
  );

  it('records a foreign message that reached the DLQ, naming the problem, and hands the dead event beside it over', async () => {
    const failures = new FailureStore({ tableName: state.name, client: dynamodb });
    const pipeline = uniqueName('pipe');
    const handed: string[] = [];
    const result = await handleDeadLetters(
      [
        { messageId: 'foreign-1', body: '{"hello":"world"}' },
        { messageId: 'dead-1', body: envelopeBody({ pipeline, stream: 'orders' }, good) },
      ],
      {
        pipeline,
        store: failures,
        failedHandler: (events) => void handed.push(...events.map((failure) => failure.event.id)),
      },
    );

    expect(result).toMatchObject({ batchItemFailures: [], handled: 1, malformed: 1 });
    expect(handed).toEqual([id]);
    const { records } = await failures.listMalformed(pipeline);
    expect(records.map((record) => record.error.message)).toEqual([
      'message foreign-1 is not a Sluice message: sluice: Invalid input: expected 1 (given undefined)',
    ]);
  });
});

describe('resources that do not exist', () => {
  it('fails a commit to a missing event log table, naming the table', async () => {
    const log = new EventLog({ tableName: 'no-such-events-table', client: dynamodb });
    const error = await log
      .commit({ stream: 'orders', type: 'order', data: {} })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CommitError);
    expect((error as Error).message).toContain("the event log table 'no-such-events-table' does not exist");
  });

  it('fails a pipeline definition written to a missing state table, naming the table', async () => {
    const store = new PipelineStore({ tableName: 'no-such-state-table', client: dynamodb });
    const queue = await createQueueWithDeadLetterQueue(sqs);
    await expect(
      store.putPipeline({ name: 'billing', stream: 'orders', queueUrl: queue.queueUrl }),
    ).rejects.toThrow("the state table 'no-such-state-table' does not exist");
  });

  it('ends a fetcher run whose queue does not exist with an error naming the queue, and sends nothing', async () => {
    const events = await createStreamTable(dynamodb, 'events');
    const log = new EventLog({ tableName: events.name, client: dynamodb });
    const store = new PipelineStore({ tableName: state.name, client: dynamodb });
    const stream = uniqueName('stream');
    const missingQueue = `${(await createQueueWithDeadLetterQueue(sqs)).queueUrl}-missing`;
    const name = uniqueName('pipe');
    await store.putPipeline({ name, stream, queueUrl: missingQueue, start: 'earliest' });
    // An event a minute old, past the settle window: the fetcher reads it at once.
    const past = new EventLog({
      tableName: events.name,
      client: dynamodb,
      idGenerator: new EventIdGenerator({ now: () => Date.now() - 60_000 }),
    });
    await past.commit({ stream, type: 'order', data: {} });
    const summary = await new Fetcher({
      store,
      source: log,
      sqs,
      pipelines: [name],
      finalizeReserveMs: 200,
    }).run({
      budgetMs: 10_000,
      untilCaughtUp: true,
    });
    expect(summary.pipelines[name]?.error?.message).toContain(missingQueue);
    expect(summary.pipelines[name]?.counts.eventsSent).toBe(0);
    expect((await store.getState(name))?.position.eventId).toBeUndefined();
    await events.drop();
  });

  it('fails a batch whose worker has no state table, naming the table, and deletes nothing', async () => {
    const queue = await createQueueWithDeadLetterQueue(sqs, { visibilityTimeoutSeconds: 30 });
    const worker = createWorker(
      {
        pipeline: 'billing',
        stateTable: 'no-such-marker-table',
        queueUrl: queue.queueUrl,
        deadLetterQueueUrl: queue.deadLetterQueueUrl,
        sqs,
        dynamodb,
        handle: () => {},
      },
      {},
    );
    await sendEnvelopes(sqs, queue.queueUrl, [envelopeEvents([{ n: 1 }])]);
    const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    await expect(worker.processEvent(batch, lambdaContext())).rejects.toThrow(
      "the state table 'no-such-marker-table' does not exist",
    );
  });
});
