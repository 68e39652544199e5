import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
// The deployed wiring's own rules, from the one place that states them.
import { maxReceiveCountFor, VISIBILITY_TIMEOUT_FACTOR } from '../lib/settings';
import {
  createQueueWithDeadLetterQueue,
  createStreamTable,
  type QueueWithDeadLetterQueue,
} from '../test/support/resources';
import type { ChaosPipelineOptions } from './pipeline-options';
import { CHAOS_TIMING, DEFAULT_MAX_REDELIVERY_COUNT, EVENT_SOURCE_BATCH_SIZE } from './settings';

/** The tables and queues of one scenario's pipeline. */
export interface PipelineResources {
  readonly tables: { readonly events: string; readonly state: string };
  readonly queue: QueueWithDeadLetterQueue;
}

/**
 * Creates a scenario's event and state tables and its queue with a dead-letter queue, the queue set
 * as deployed: its visibility timeout `VISIBILITY_TIMEOUT_FACTOR` times the worker's timeout, and its
 * `maxReceiveCount` from `maxReceiveCountFor`.
 *
 * @example
 * ```ts
 * const { tables, queue } = await createPipelineResources(awsClients(endpoints), { endpoints, seed: 1, prefix: 'poison' });
 * ```
 */
export async function createPipelineResources(
  clients: { dynamodb: DynamoDBClient; sqs: SQSClient },
  options: ChaosPipelineOptions,
): Promise<PipelineResources> {
  const visibility =
    options.visibilityTimeoutSeconds ??
    VISIBILITY_TIMEOUT_FACTOR * (options.workerTimeoutSeconds ?? CHAOS_TIMING.workerTimeoutSeconds);
  const [events, state, queue] = await Promise.all([
    createStreamTable(clients.dynamodb, `${options.prefix}-events`),
    createStreamTable(clients.dynamodb, `${options.prefix}-state`),
    createQueueWithDeadLetterQueue(clients.sqs, {
      prefix: options.prefix,
      visibilityTimeoutSeconds: visibility,
      deadLetterVisibilityTimeoutSeconds: 3,
      maxReceiveCount: maxReceiveCountFor(
        options.maxRedeliveryCount ?? DEFAULT_MAX_REDELIVERY_COUNT,
        options.pipeline?.fifo ? EVENT_SOURCE_BATCH_SIZE : 1,
      ),
      ...(options.pipeline?.fifo ? { fifo: true } : {}),
    }),
  ]);
  return { tables: { events: events.name, state: state.name }, queue };
}

/** Deletes a scenario's tables and queues, each on its own (one that fails leaves the rest deleted). */
export async function dropPipelineResources(
  clients: { dynamodb: DynamoDBClient; sqs: SQSClient },
  { tables, queue }: PipelineResources,
): Promise<void> {
  await Promise.allSettled([
    clients.dynamodb.send(new DeleteTableCommand({ TableName: tables.events })),
    clients.dynamodb.send(new DeleteTableCommand({ TableName: tables.state })),
    clients.sqs.send(new DeleteQueueCommand({ QueueUrl: queue.queueUrl })),
    clients.sqs.send(new DeleteQueueCommand({ QueueUrl: queue.deadLetterQueueUrl })),
  ]);
}
