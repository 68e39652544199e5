import {
  CreateTableCommand,
  DeleteTableCommand,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestMeter } from '../../bench/meter/request-meter';
import { eventLogTableDefinition } from '../../lib/event-log/table';
import { dynamodbClient, sqsClient, uniqueName } from '../support/aws';

describe('the request meter against the emulators', () => {
  const sqs = sqsClient();
  const dynamodb = dynamodbClient();
  const meter = new RequestMeter();
  let queueUrl: string;
  let tableName: string;

  beforeAll(async () => {
    tableName = uniqueName('meter');
    await dynamodb.send(new CreateTableCommand(eventLogTableDefinition(tableName)));
    ({ QueueUrl: queueUrl = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: uniqueName('meter') }),
    ));
    meter.attach(sqs);
    meter.attach(dynamodb);
  });

  afterAll(async () => {
    await dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
    sqs.destroy();
    dynamodb.destroy();
  });

  it('counts each call by operation and bills it as AWS does', async () => {
    // Prepare: ten messages of 10,000 bytes (100,000 bytes: two 64 KB chunks) and a 1,500-byte item.
    const body = 'x'.repeat(10_000);

    // Act
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Array.from({ length: 10 }, (_, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
    const received = [];
    while (received.length < 10) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      received.push(...Messages);
    }
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: received.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle,
        })),
      }),
    );
    const key = { pk: { S: 'k' }, sk: { S: 's' } };
    await dynamodb.send(
      new PutItemCommand({ TableName: tableName, Item: { ...key, d: { S: 'y'.repeat(1_500) } } }),
    );
    await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
    await expect(
      dynamodb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: key,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toThrow();

    // Assess
    const counts = meter.counts();
    expect(counts['SQS.SendMessageBatch']).toEqual({
      calls: 1,
      errors: 0,
      sqsRequests: 2,
      writeUnits: 0,
      readUnits: 0,
      payloadBytes: 100_000,
    });
    const receives = counts['SQS.ReceiveMessage'];
    expect(receives?.payloadBytes).toBe(100_000);
    // 100,000 bytes came back: at least two 64 KB chunks, and at least one request per receive.
    expect(receives?.sqsRequests).toBeGreaterThanOrEqual(Math.max(2, receives?.calls ?? 0));
    expect(counts['SQS.DeleteMessageBatch']).toMatchObject({ calls: 1, sqsRequests: 1 });
    // 'pk' 'k' 'sk' 's' 'd' + 1,500 bytes = 1,507 bytes: 2 write units; the refused write still costs 1.
    expect(counts['DynamoDB.PutItem']).toMatchObject({ calls: 2, errors: 1, writeUnits: 3 });
    expect(counts['DynamoDB.GetItem']).toMatchObject({ calls: 1, readUnits: 1, payloadBytes: 1_507 });
  });
});
