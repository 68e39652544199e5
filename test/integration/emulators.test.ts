import { createServer } from 'node:net';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { assertJavaPresent, startDynamoDbLocal } from '../../lib/local';
import { LocalEnvironmentError } from '../../lib/local/errors';
import { createQueueWithDeadLetterQueue, createStreamTable, dynamodbClient, sqsClient } from '../support/aws';
import { waitFor } from '../support/wait-for';

const dynamodb = dynamodbClient();
const sqs = sqsClient();

describe('local AWS', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.all(cleanups.map((cleanup) => cleanup()));
  });

  it('serves a stream table from DynamoDB Local through the real SDK', async () => {
    const table = await createStreamTable(dynamodb);
    cleanups.push(table.drop);
    const described = await dynamodb.send(new DescribeTableCommand({ TableName: table.name }));
    expect(described.Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });

  it('moves a message that keeps failing to the dead-letter queue after maxReceiveCount receives', async () => {
    const queue = await createQueueWithDeadLetterQueue(sqs, {
      maxReceiveCount: 2,
      visibilityTimeoutSeconds: 1,
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: 'poison' }));
    let receives = 0;
    const dead = await waitFor('the message in the dead-letter queue', async () => {
      const fromQueue = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.queueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 0 }),
      );
      receives += fromQueue.Messages?.length ?? 0;
      const fromDeadLetter = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.deadLetterQueueUrl, WaitTimeSeconds: 0 }),
      );
      return fromDeadLetter.Messages?.[0];
    });
    expect(dead.Body).toBe('poison');
    expect(receives).toBe(2);
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: queue.deadLetterQueueUrl, ReceiptHandle: dead.ReceiptHandle }),
    );
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    expect(attributes.Attributes?.ApproximateNumberOfMessages).toBe('0');
  });

  it('fails to start DynamoDB Local on a port that is taken, with its output in the error', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '0.0.0.0', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const start = startDynamoDbLocal({ port, fastStart: true, startTimeoutMs: 30_000 });
      await expect(start).rejects.toMatchObject({
        constructor: LocalEnvironmentError,
        code: 'emulator-start-failed',
      });
    } finally {
      blocker.close();
    }
  });

  it('says how to install Java when there is none on the PATH', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => assertJavaPresent()).toThrow(
        expect.objectContaining({ constructor: LocalEnvironmentError, code: 'java-missing' }),
      );
      expect(() => assertJavaPresent()).toThrow(/apt-get install -y openjdk-17-jre-headless/);
    } finally {
      process.env.PATH = path;
    }
  });
});
