import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { eventLogTableDefinition } from '../../lib/event-log/table';

// Tables and queues for tests and for the fault-injection runner: no test framework here, so the
// runner (chaos/) imports them too.

/** A name no other test file uses, so that files can run in parallel against the same emulators. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Creates an event log table with a unique name and resolves to its name; `drop()` deletes it.
 *
 * @example
 * ```ts
 * const table = await createStreamTable(client);
 * afterAll(() => table.drop());
 * ```
 */
export async function createStreamTable(
  client: DynamoDBClient,
  prefix = 'events',
): Promise<{ name: string; drop(): Promise<void> }> {
  const name = uniqueName(prefix);
  await client.send(new CreateTableCommand(eventLogTableDefinition(name)));
  return {
    name,
    drop: async () => {
      await client.send(new DeleteTableCommand({ TableName: name }));
    },
  };
}

/** A queue and its dead-letter queue. */
export interface QueueWithDeadLetterQueue {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
}

/**
 * Creates a queue (standard or FIFO) whose messages move to a new dead-letter queue after
 * `maxReceiveCount` receives.
 *
 * @example
 * ```ts
 * const { queueUrl, deadLetterQueueUrl } = await createQueueWithDeadLetterQueue(sqs, { maxReceiveCount: 3 });
 * ```
 */
export async function createQueueWithDeadLetterQueue(
  client: SQSClient,
  options: {
    maxReceiveCount?: number;
    fifo?: boolean;
    visibilityTimeoutSeconds?: number;
    /** @default 30 */
    deadLetterVisibilityTimeoutSeconds?: number;
    prefix?: string;
  } = {},
): Promise<QueueWithDeadLetterQueue> {
  const suffix = options.fifo ? '.fifo' : '';
  const base = uniqueName(options.prefix ?? 'queue');
  const fifoAttributes: Record<string, string> = options.fifo ? { FifoQueue: 'true' } : {};
  const deadLetter = await client.send(
    new CreateQueueCommand({
      QueueName: `${base}-dlq${suffix}`,
      Attributes: {
        ...fifoAttributes,
        VisibilityTimeout: String(options.deadLetterVisibilityTimeoutSeconds ?? 30),
      },
    }),
  );
  const deadLetterQueueUrl = deadLetter.QueueUrl as string;
  const deadLetterQueueArn = await queueArn(client, deadLetterQueueUrl);
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: `${base}${suffix}`,
      Attributes: {
        ...fifoAttributes,
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: deadLetterQueueArn,
          maxReceiveCount: options.maxReceiveCount ?? 3,
        }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl as string;
  return { queueUrl, queueArn: await queueArn(client, queueUrl), deadLetterQueueUrl, deadLetterQueueArn };
}

async function queueArn(client: SQSClient, queueUrl: string): Promise<string> {
  const output = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  return output.Attributes?.QueueArn as string;
}
