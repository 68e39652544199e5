import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker } from '../../lib';
import { RetryableError } from '../../lib/retry/errors';
import { MarkerStore } from '../../lib/worker/marker-store';
import {
  createQueueWithDeadLetterQueue,
  createStreamTable,
  dynamodbClient,
  sqsClient,
  uniqueName,
} from '../support/aws';
import {
  envelopeEvents,
  lambdaContext,
  receiveAsLambdaEvent,
  sendEnvelopes,
} from '../support/worker-fixture';

// Messages done without output events have their markers written together, in one BatchWriteItem
// per 25, with no condition. DynamoDB Local never leaves items unprocessed, so a middleware does
// what a throttled table does: it holds items of a BatchWriteItem back and returns them unprocessed.

type WriteRequests = { PutRequest?: { Item?: Record<string, AttributeValue> } }[];

/** Counts the client's calls by command, and makes BatchWriteItem leave `heldBack(call)` items unprocessed. */
function meterCalls(client: DynamoDBClient, heldBack: (call: number) => number = () => 0) {
  const calls = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '';
      calls.set(name, (calls.get(name) ?? 0) + 1);
      if (name !== BatchWriteItemCommand.name) return next(args);
      const input = args.input as { RequestItems: Record<string, WriteRequests> };
      const [table, requests] = Object.entries(input.RequestItems)[0] as [string, WriteRequests];
      const held = requests.slice(0, heldBack(calls.get(name) ?? 0));
      const sent = requests.slice(held.length);
      const result =
        sent.length > 0
          ? await next({ ...args, input: { ...input, RequestItems: { [table]: sent } } })
          : { output: { $metadata: {} }, response: {} };
      if (held.length > 0)
        (result.output as { UnprocessedItems?: unknown }).UnprocessedItems = { [table]: held };
      return result as Awaited<ReturnType<typeof next>>;
    },
    { step: 'initialize', name: 'testMeterCalls', override: true },
  );
  return { count: (command: string) => calls.get(command) ?? 0 };
}

const setupClient = dynamodbClient();
const sqs = sqsClient();
let state: Awaited<ReturnType<typeof createStreamTable>>;

beforeAll(async () => {
  state = await createStreamTable(setupClient, 'done-markers');
});
afterAll(async () => {
  await state.drop();
  setupClient.destroy();
});

describe('MarkerStore.putDone', () => {
  it('writes again what DynamoDB left unprocessed, then every marker reads as done', async () => {
    // Prepare: the first two calls leave 3 items unprocessed.
    const client = dynamodbClient();
    const calls = meterCalls(client, (call) => (call <= 2 ? 3 : 0));
    const markers = new MarkerStore({ tableName: state.name, client });
    const keys = Array.from({ length: 30 }, (_, index) => `message-${index}`);

    // Act
    await markers.putDone(
      'billing',
      keys.map((key) => ({ key, failures: {} })),
    );

    // Assess: 25 and 5 items, then the held-back ones twice.
    const found = await markers.getMany('billing', keys);
    expect([...found.values()].filter((marker) => marker.status === 'done')).toHaveLength(30);
    expect(calls.count(BatchWriteItemCommand.name)).toBe(4);
    client.destroy();
  });

  it('fails with a transient error naming the markers and the table when items stay unprocessed', async () => {
    // Prepare: every call leaves one item unprocessed.
    const client = dynamodbClient();
    meterCalls(client, () => 1);
    const markers = new MarkerStore({ tableName: state.name, client });

    // Act
    const error = await markers
      .putDone('billing', [
        { key: 'stuck-a', failures: {} },
        { key: 'stuck-b', failures: {} },
      ])
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toBe(
      `could not write 1 of 2 idempotency markers to table '${state.name}': DynamoDB left them unprocessed after 4 attempts (the table is throttled, or the response was over 16 MB); none is taken as written`,
    );
    client.destroy();
  });

  it('is never replaced by a delivery that read the marker it overwrote', async () => {
    // Prepare: delivery A records part of the message (version 1); delivery C reads it; delivery B,
    // which read nothing, finishes the message and writes done over it without a condition.
    const markers = new MarkerStore({ tableName: state.name, client: setupClient });
    const key = uniqueName('raced');
    const partial = {
      status: 'partial',
      completedIds: new Set(['event-1']),
      failures: { 'event-2': 1 },
    } as const;
    await setupClient.send(new PutItemCommand(markers.markerWrite('billing', key, partial).Put as never));
    const readByC = (await markers.getMany('billing', [key])).get(key);
    await markers.putDone('billing', [{ key, failures: {} }]);

    // Act: C records its own progress over the version it read.
    const write = markers.markerWrite('billing', key, { ...partial, failures: { 'event-2': 2 } }, readByC);
    const error = await setupClient
      .send(new PutItemCommand(write.Put as never))
      .catch((caught: unknown) => caught);

    // Assess: refused, and the message stays done.
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect((await markers.getMany('billing', [key])).get(key)?.status).toBe('done');
  });
});

describe('a worker batch of one-event messages', () => {
  async function setup(heldBack: (call: number) => number = () => 0) {
    const client = dynamodbClient();
    const calls = meterCalls(client, heldBack);
    const queue = await createQueueWithDeadLetterQueue(sqs, {
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 50,
    });
    const handled = new Map<string, number>();
    const pipeline = uniqueName('pipe');
    const worker = createWorker<{ n: number }>({
      pipeline,
      stateTable: state.name,
      queueUrl: queue.queueUrl,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      sqs,
      dynamodb: client,
      backoff: { baseDelaySeconds: 1, jitter: false },
      handle: async (event) => {
        handled.set(event.id, (handled.get(event.id) ?? 0) + 1);
      },
    });
    const messages = Array.from({ length: 10 }, (_, n) => envelopeEvents([{ n }]));
    await sendEnvelopes(sqs, queue.queueUrl, messages, { pipeline });
    const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    return { client, calls, worker, batch, handled, messages };
  }

  it('records its ten markers in one request, and a redelivery of the batch runs nothing again', async () => {
    // Prepare
    const { client, calls, worker, batch, handled } = await setup();
    expect(batch.Records).toHaveLength(10);

    // Act
    const first = await worker.processEvent(batch, lambdaContext());
    const again = await worker.processEvent(batch, lambdaContext());

    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(first.stats).toMatchObject({ succeeded: 10, duplicatesSkipped: 0 });
    expect(calls.count(BatchWriteItemCommand.name)).toBe(1);
    expect(calls.count(PutItemCommand.name)).toBe(0);
    expect(again.stats).toMatchObject({ succeeded: 0, duplicatesSkipped: 10 });
    expect([...handled.values()]).toEqual(Array(10).fill(1));
    client.destroy();
  });

  it('sends every message back when the markers cannot be written, and counts none as succeeded', async () => {
    // Prepare: DynamoDB leaves one marker unprocessed on every call.
    const { client, worker, batch, handled } = await setup(() => 1);

    // Act
    const outcome = await worker.processEvent(batch, lambdaContext());

    // Assess: all ten come back (none is known to be recorded), after the infrastructure backoff.
    expect(outcome.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      batch.Records.map((record) => record.messageId).sort(),
    );
    expect(outcome.stats.succeeded).toBe(0);
    expect(handled.size).toBe(10);
    client.destroy();
  });
});
