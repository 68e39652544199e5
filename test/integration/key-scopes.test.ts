import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { stateKeyPatterns, streamKeyPatterns } from '../../infra/key-scopes';
import { createWorker, EventLog, NonRetryableError } from '../../lib';
import { startLocalPipeline } from '../../lib/local';
import { uniqueName } from '../support/aws';
import { iamLike } from '../support/iam';

/** The partition keys a DynamoDB client's requests name: keys, items, key conditions, transactions. */
function recordPartitionKeys(client: DynamoDBClient): Set<string> {
  const keys = new Set<string>();
  const fromItem = (item: unknown) => {
    const pk = (item as { pk?: { S?: string } } | undefined)?.pk?.S;
    if (pk !== undefined) keys.add(pk);
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as Record<string, unknown>;
      fromItem(input.Key);
      fromItem(input.Item);
      const values = input.ExpressionAttributeValues as Record<string, { S?: string }> | undefined;
      if (typeof input.KeyConditionExpression === 'string' && values)
        for (const [name, value] of Object.entries(values))
          if (new RegExp(`pk = ${name.replace(':', '\\:')}\\b`).test(input.KeyConditionExpression) && value.S)
            keys.add(value.S);
      for (const request of Object.values((input.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>))
        for (const key of request.Keys ?? []) fromItem(key);
      for (const action of (input.TransactItems ?? []) as Record<string, { Key?: unknown; Item?: unknown }>[])
        for (const part of Object.values(action)) {
          fromItem(part.Key);
          fromItem(part.Item);
        }
      return next(args);
    },
    { step: 'initialize', name: 'testRecordPartitionKeys', override: true },
  );
  return keys;
}

async function partitionKeysIn(client: DynamoDBClient, table: string): Promise<string[]> {
  const keys: string[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) if (item.pk?.S) keys.push(item.pk.S);
    start = page.LastEvaluatedKey as typeof start;
  } while (start);
  return keys;
}

describe('the keys IAM conditions allow are the keys the code uses', () => {
  it('keeps every key a pipeline’s functions read or write inside the patterns its roles are granted', async () => {
    // Prepare
    const endpoints = { dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') };
    const stream = uniqueName('orders');
    const outputs = uniqueName('invoices');
    const pipeline = uniqueName('billing');
    const stateTable = uniqueName('state');
    const eventLogTable = uniqueName('events');
    const clientConfig = {
      endpoint: endpoints.dynamodb,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    };
    const workerClient = new DynamoDBClient(clientConfig);
    const scanner = new DynamoDBClient(clientConfig);
    const workerKeys = recordPartitionKeys(workerClient);
    const local = await startLocalPipeline({
      endpoints,
      eventLogTable,
      stateTable,
      pipeline: { name: pipeline, stream, start: 'earliest' },
      workerFactory: (resources) =>
        createWorker<{ n: number }>(
          {
            pipeline: resources.pipeline,
            stateTable: resources.stateTable,
            queueUrl: resources.queueUrl,
            deadLetterQueueUrl: resources.deadLetterQueueUrl,
            sqs: resources.sqs,
            dynamodb: workerClient,
            eventLog: new EventLog({ tableName: eventLogTable, client: workerClient }),
            maxRedeliveryCount: 2,
            handle: async (event) => {
              if (event.data.n % 10 === 3) throw new NonRetryableError(`order ${event.data.n} is refused`);
              return { stream: outputs, type: 'invoice', data: { n: event.data.n } };
            },
          },
          {},
        ),
      failedHandler: () => undefined,
      maxRedeliveryCount: 2,
      fetcherIntervalMs: 300,
      fetcherTimeoutSeconds: 3,
      fetcherPollIntervalMs: 100,
    });

    try {
      // Act
      await local.eventLog.commit(
        Array.from({ length: 30 }, (_, n) => ({ stream, type: 'order', data: { n } })),
      );
      await local.waitForIdle({ timeoutMs: 60_000 });
      const stateKeys = await partitionKeysIn(scanner, stateTable);
      const logKeys = await partitionKeysIn(scanner, eventLogTable);

      // Assess: the worker's own requests stay inside the worker's grants
      const workerPatterns = [...stateKeyPatterns(pipeline, 'worker'), ...streamKeyPatterns(outputs)];
      expect(workerKeys.size).toBeGreaterThan(0);
      expect(
        [...workerKeys].filter((key) => !workerPatterns.some((pattern) => iamLike(pattern, key))),
      ).toEqual([]);
      // ... and every item of the pipeline's, in the state table and the log, under some role's grant
      const pipelinePatterns = (['fetcher', 'worker', 'failedHandler'] as const).flatMap((role) =>
        stateKeyPatterns(pipeline, role),
      );
      expect(stateKeys.some((key) => key.startsWith('failures#'))).toBe(true);
      expect(stateKeys.filter((key) => !pipelinePatterns.some((pattern) => iamLike(pattern, key)))).toEqual(
        [],
      );
      const logPatterns = [...streamKeyPatterns(stream), ...streamKeyPatterns(outputs)];
      expect(logKeys.some((key) => key.startsWith(`e#${outputs}#`))).toBe(true);
      expect(logKeys.filter((key) => !logPatterns.some((pattern) => iamLike(pattern, key)))).toEqual([]);
    } finally {
      await local.stop();
      workerClient.destroy();
      scanner.destroy();
    }
  });
});
