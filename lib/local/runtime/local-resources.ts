import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SluiceError } from '../../errors';
import { eventLogTableDefinition } from '../../event-log/table';
import { pause } from './pause';

// The AWS resources a local pipeline needs, created when missing: the event log and state tables
// (the first with its stream when commits wake the fetcher), the queue and its DLQ.

/** The stream a local event log table has when its commits wake the fetcher: keys are enough, as deployed. */
const KEYS_ONLY_STREAM = { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' } as const;
/** How long a table may take to become active. */
const TABLE_ACTIVE_CHECKS = 600;
const TABLE_CHECK_INTERVAL_MS = 500;

/**
 * Creates the table unless it exists, and waits until it is active; with `stream`, gives it a
 * `KEYS_ONLY` stream if it has none.
 *
 * @example
 * ```ts
 * await ensureTable(dynamodb, 'sluice-events', { stream: true });
 * ```
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  settings: { readonly stream: boolean },
): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        ...eventLogTableDefinition(tableName),
        ...(settings.stream ? { StreamSpecification: KEYS_ONLY_STREAM } : {}),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  let streamAsked = false;
  for (let attempt = 0; attempt < TABLE_ACTIVE_CHECKS; attempt += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') {
      if (!settings.stream || Table.StreamSpecification?.StreamEnabled) return;
      // A table made before wake-ups (or by something else): give it the stream.
      if (!streamAsked) {
        streamAsked = true;
        await client.send(
          new UpdateTableCommand({ TableName: tableName, StreamSpecification: KEYS_ONLY_STREAM }),
        );
        continue;
      }
    }
    await pause(TABLE_CHECK_INTERVAL_MS);
  }
  throw new SluiceError(`table ${tableName} did not become ACTIVE within five minutes`);
}

/** A pipeline's queue and its DLQ. */
export interface PipelineQueues {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
}

/**
 * Creates the DLQ, then the queue redriving to it after `maxReceiveCount` receives (or finds them,
 * CreateQueue being idempotent for the same attributes).
 *
 * @example
 * ```ts
 * const queues = await createQueues(sqs, { name: 'sluice-billing', fifo: false, visibilityTimeoutSeconds: 180, maxReceiveCount: 6 });
 * ```
 */
export async function createQueues(
  sqs: SQSClient,
  settings: { name: string; fifo: boolean; visibilityTimeoutSeconds: number; maxReceiveCount: number },
): Promise<PipelineQueues> {
  const suffix = settings.fifo ? '.fifo' : '';
  const fifoAttributes: Record<string, string> = settings.fifo ? { FifoQueue: 'true' } : {};
  const dead = await sqs.send(
    new CreateQueueCommand({ QueueName: `${settings.name}-dlq${suffix}`, Attributes: fifoAttributes }),
  );
  const deadLetterQueueUrl = dead.QueueUrl as string;
  const deadLetterQueueArn = await queueArn(sqs, deadLetterQueueUrl);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${settings.name}${suffix}`,
      Attributes: {
        ...fifoAttributes,
        VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: deadLetterQueueArn,
          maxReceiveCount: settings.maxReceiveCount,
        }),
      },
    }),
  );
  const queueUrl = queue.QueueUrl as string;
  return { queueUrl, queueArn: await queueArn(sqs, queueUrl), deadLetterQueueUrl, deadLetterQueueArn };
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const output = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = output.Attributes?.QueueArn;
  if (!arn) throw new SluiceError(`the queue ${queueUrl} reported no QueueArn`);
  return arn;
}
