import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetryableError } from '../../lib/retry/errors';
import { isTransientError } from '../../lib/retry/is-transient';
import { DynamoDBContentHashStore } from '../../lib/sync/content-hash-store';
import { MarkerStore } from '../../lib/worker/marker-store';
import { createStreamTable, dynamodbClient } from '../support/aws';

// DynamoDB Local never leaves keys unprocessed, so this middleware does what a throttled table does:
// it holds some keys of a BatchGetItem back from the request and returns them as UnprocessedKeys.

type Keys = Record<string, AttributeValue>[];

/**
 * Makes the client's BatchGetItem calls leave `heldBack(call)` keys unprocessed (the n-th call, from
 * 1), and counts the calls.
 */
function leaveKeysUnprocessed(
  client: DynamoDBClient,
  heldBack: (call: number) => number,
): { calls(): number } {
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== BatchGetItemCommand.name) return next(args);
      calls += 1;
      const input = args.input as { RequestItems: Record<string, { Keys: Keys }> };
      const [table, request] = Object.entries(input.RequestItems)[0] as [string, { Keys: Keys }];
      const held = request.Keys.slice(0, heldBack(calls));
      const sent = request.Keys.slice(held.length);
      // A request of no keys is invalid: with every key held back, no request reaches the table.
      const result =
        sent.length > 0
          ? await next({
              ...args,
              input: { ...input, RequestItems: { [table]: { ...request, Keys: sent } } },
            })
          : { output: { $metadata: {}, Responses: { [table]: [] } }, response: {} };
      if (held.length > 0)
        (result.output as { UnprocessedKeys?: unknown }).UnprocessedKeys = {
          [table]: { ...request, Keys: held },
        };
      return result as Awaited<ReturnType<typeof next>>;
    },
    { step: 'initialize', name: 'testLeaveKeysUnprocessed', override: true },
  );
  return { calls: () => calls };
}

describe('batch reads that DynamoDB leaves partly unprocessed', () => {
  let setup: DynamoDBClient;
  let table: { name: string; drop(): Promise<void> };
  const keys = ['message-a', 'message-b', 'message-c'];

  beforeAll(async () => {
    setup = dynamodbClient();
    table = await createStreamTable(setup, 'batch-get');
    const markers = new MarkerStore({ tableName: table.name, client: setup });
    const marker = { status: 'done', completedIds: new Set<string>(), failures: {} } as const;
    await setup.send(
      new TransactWriteItemsCommand({
        TransactItems: keys.map((key) => markers.markerWrite('billing', key, marker)),
      }),
    );
    const hashes = new DynamoDBContentHashStore({ tableName: table.name, client: setup });
    for (const key of keys) await hashes.putIfChanged('crm', key, `hash-of-${key}`);
  });

  afterAll(async () => {
    await table.drop();
    setup.destroy();
  });

  it('reads markers again until none is left unprocessed, rather than taking them for new messages', async () => {
    // Prepare: the first two calls leave two keys unprocessed.
    const client = dynamodbClient();
    const calls = leaveKeysUnprocessed(client, (call) => (call <= 2 ? 2 : 0));
    const markers = new MarkerStore({ tableName: table.name, client });

    // Act
    const found = await markers.getMany('billing', keys);

    // Assess
    expect([...found.keys()].sort()).toEqual(keys);
    expect([...found.values()].map((marker) => marker.status)).toEqual(['done', 'done', 'done']);
    expect(calls.calls()).toBe(3);
    client.destroy();
  });

  it('fails with a transient error naming the markers and the table when keys stay unprocessed', async () => {
    // Prepare: every call leaves one key unprocessed.
    const client = dynamodbClient();
    const calls = leaveKeysUnprocessed(client, () => 1);
    const markers = new MarkerStore({ tableName: table.name, client });

    // Act
    const error = await markers.getMany('billing', keys).catch((caught: unknown) => caught);

    // Assess: thrown, never a map without the unread marker; the worker backs off on it.
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toBe(
      `could not read 1 of 3 idempotency markers from table '${table.name}': DynamoDB left them unprocessed after 4 attempts (the table is throttled, or the response was over 16 MB); none is taken as missing`,
    );
    expect(isTransientError(error)).toBe(true);
    expect(calls.calls()).toBe(4);
    client.destroy();
  });

  it('reads content hashes again until none is left unprocessed', async () => {
    // Prepare
    const client = dynamodbClient();
    const calls = leaveKeysUnprocessed(client, (call) => (call === 1 ? 3 : call === 2 ? 1 : 0));
    const hashes = new DynamoDBContentHashStore({ tableName: table.name, client });

    // Act
    const found = await hashes.getHashes('crm', keys);

    // Assess
    expect(Object.fromEntries(found)).toEqual({
      'message-a': 'hash-of-message-a',
      'message-b': 'hash-of-message-b',
      'message-c': 'hash-of-message-c',
    });
    expect(calls.calls()).toBe(3);
    client.destroy();
  });
});
