import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { attributeKey, countersKey } from '../state/keys';
import type { BatchStats } from './types';

/** A pipeline's running totals, as its workers add them up in the state table. */
export interface PipelineCounters {
  /** Events handled successfully. */
  readonly handled: number;
  /** Failed attempts (an event that failed twice counts twice). */
  readonly failed: number;
  readonly deadLettered: number;
  /** Average time from commit to success over every handled event; `null` before the first. */
  readonly averageLatencyMs: number | null;
  /** When a worker last added to them, in epoch milliseconds. */
  readonly updatedAt: number;
}

/**
 * Adds one batch's counts to its pipeline's totals in the state table: one `UpdateItem` with `ADD`,
 * so concurrent workers never lose each other's counts. For `sluice status`; CloudWatch has the
 * same counts per minute.
 *
 * @example
 * ```ts
 * await addBatchCounters(dynamodb, 'sluice-state', 'billing', outcome.stats, Date.now());
 * ```
 */
export async function addBatchCounters(
  client: DynamoDBClient,
  tableName: string,
  pipeline: string,
  stats: BatchStats,
  now: number,
): Promise<void> {
  await client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: attributeKey(countersKey(pipeline)),
      UpdateExpression:
        'ADD handled :handled, failed :failed, deadLettered :dead, latencyMsTotal :latency SET updatedAt = :now',
      ExpressionAttributeValues: {
        ':handled': { N: String(stats.succeeded) },
        ':failed': { N: String(stats.failed) },
        ':dead': { N: String(stats.deadLettered) },
        ':latency': { N: String(Math.round(stats.latencyMsTotal)) },
        ':now': { N: String(now) },
      },
    }),
  );
}

/**
 * A pipeline's running totals, or `undefined` before its first batch.
 *
 * @example
 * ```ts
 * const counters = await readPipelineCounters(dynamodb, 'sluice-state', 'billing');
 * ```
 */
export async function readPipelineCounters(
  client: DynamoDBClient,
  tableName: string,
  pipeline: string,
): Promise<PipelineCounters | undefined> {
  const { Item: item } = await client.send(
    new GetItemCommand({
      TableName: tableName,
      Key: attributeKey(countersKey(pipeline)),
      ConsistentRead: true,
    }),
  );
  if (!item) return undefined;
  const number = (name: string) => Number(item[name]?.N ?? 0);
  const handled = number('handled');
  return {
    handled,
    failed: number('failed'),
    deadLettered: number('deadLettered'),
    averageLatencyMs: handled > 0 ? Math.round(number('latencyMsTotal') / handled) : null,
    updatedAt: number('updatedAt'),
  };
}
