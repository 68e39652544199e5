import { type AttributeValue, BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { type BatchGetItemsOptions, inChunksUntilProcessed } from './batch-get';

/** The most puts one BatchWriteItem call may hold. */
export const MAX_BATCH_WRITE_ITEMS = 25;

/** Options of {@link batchPutItems}. */
export interface BatchPutItemsOptions
  extends Pick<BatchGetItemsOptions, 'send' | 'tableName' | 'what' | 'retry'> {
  /** Whole items to put, unconditionally; at most one per key. */
  readonly items: readonly Record<string, AttributeValue>[];
}

/**
 * Puts items with BatchWriteItem, 25 a call, and never drops one: items DynamoDB leaves unprocessed
 * (a throttled table or partition) are put again with backoff through `withRetry`, and when the
 * retries run out it throws, saying how many are still unwritten. A put in a batch has no
 * condition: use it only for writes that may overwrite whatever is there.
 *
 * @throws `RetryableError` (transient) when items are still unprocessed after the last attempt; the
 * error of a call that failed otherwise, as it came (the SDK has retried it already).
 *
 * @example
 * ```ts
 * await batchPutItems({
 *   send: client.send.bind(client),
 *   tableName: 'sluice-state',
 *   items: [{ pk: { S: 'marker#billing#abc' }, sk: { S: '-' }, status: { S: 'done' } }],
 *   what: 'idempotency markers',
 * });
 * ```
 */
export async function batchPutItems(options: BatchPutItemsOptions): Promise<void> {
  const { tableName } = options;
  await inChunksUntilProcessed(
    options.items.map((Item) => ({ PutRequest: { Item } })),
    MAX_BATCH_WRITE_ITEMS,
    options,
    { verb: 'write', left: 'items', noneLost: 'none is taken as written' },
    async (pending) => {
      const output = await options.send(
        new BatchWriteItemCommand({ RequestItems: { [tableName]: [...pending] } }),
      );
      return (output.UnprocessedItems?.[tableName] ?? []).flatMap((request) =>
        request.PutRequest?.Item ? [{ PutRequest: { Item: request.PutRequest.Item } }] : [],
      );
    },
  );
}
