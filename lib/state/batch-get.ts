import { type AttributeValue, BatchGetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RetriesExhaustedError, RetryableError } from '../retry/errors';
import { type WithRetryOptions, withRetry } from '../retry/with-retry';

/** The most keys one BatchGetItem call may ask for. */
export const MAX_BATCH_GET_KEYS = 100;

/** Options of {@link batchGetItems}. */
export interface BatchGetItemsOptions {
  /** `client.send`, or a wrapper of it (such as `sendNamingTable`'s). */
  readonly send: DynamoDBClient['send'];
  readonly tableName: string;
  /** The keys to read; duplicates are read once. */
  readonly keys: readonly Record<string, AttributeValue>[];
  /** What the items are, for the error when some cannot be read ("idempotency markers"). */
  readonly what: string;
  /** @default true */
  readonly consistentRead?: boolean;
  /** Only these attributes. @default every attribute */
  readonly projection?: {
    readonly expression: string;
    readonly names?: Readonly<Record<string, string>>;
  };
  /**
   * How keys DynamoDB leaves unprocessed are retried.
   * @default `{ preset: 'aws' }`: 4 attempts, 100 ms doubling up to 2 s, with jitter
   */
  readonly retry?: Pick<WithRetryOptions, 'preset' | 'jitter' | 'sleep' | 'random' | 'deadlineMs'>;
}

/**
 * Reads items by key with BatchGetItem, 100 keys a call, and never drops a key: keys DynamoDB leaves
 * unprocessed (a throttled table or partition, a response over 16 MB) are asked for again with
 * backoff through `withRetry`, and when the retries run out it throws, saying how many keys are
 * still unread, rather than returning without them. Items that do not exist are simply absent from
 * the result.
 *
 * @throws `RetryableError` (transient, so a caller backs off as for throttling) when keys are still
 * unprocessed after the last attempt, its `cause` the `RetriesExhaustedError`; the error of a call
 * that failed otherwise, as it came (the SDK has retried it already).
 *
 * @example
 * ```ts
 * const items = await batchGetItems({
 *   send: client.send.bind(client),
 *   tableName: 'sluice-state',
 *   keys: [{ pk: { S: 'marker#billing#abc' }, sk: { S: '-' } }],
 *   what: 'idempotency markers',
 * });
 * ```
 */
export async function batchGetItems(
  options: BatchGetItemsOptions,
): Promise<Record<string, AttributeValue>[]> {
  const { tableName } = options;
  const unique = [...new Map(options.keys.map((key) => [JSON.stringify(key), key])).values()];
  const found: Record<string, AttributeValue>[] = [];
  const request = {
    ConsistentRead: options.consistentRead ?? true,
    ...(options.projection
      ? {
          ProjectionExpression: options.projection.expression,
          ...(options.projection.names ? { ExpressionAttributeNames: { ...options.projection.names } } : {}),
        }
      : {}),
  };
  await inChunksUntilProcessed(
    unique,
    MAX_BATCH_GET_KEYS,
    options,
    { verb: 'read', left: 'keys', noneLost: 'none is taken as missing' },
    async (pending) => {
      const output = await options.send(
        new BatchGetItemCommand({ RequestItems: { [tableName]: { ...request, Keys: [...pending] } } }),
      );
      found.push(...(output.Responses?.[tableName] ?? []));
      return output.UnprocessedKeys?.[tableName]?.Keys ?? [];
    },
  );
  return found;
}

/** How {@link untilProcessed} names what it does in its errors. */
interface UnprocessedWording {
  /** "read", "write". */
  readonly verb: string;
  /** What DynamoDB leaves unprocessed: "keys", "items". */
  readonly left: string;
  /** What the caller does not do with them: "none is taken as missing". */
  readonly noneLost: string;
}

/**
 * Calls `call` with `all`, `chunkSize` at a time, one chunk after another, each until DynamoDB
 * leaves nothing of it unprocessed (see {@link untilProcessed}). Shared by the batch reads and
 * writes of the state table.
 */
export async function inChunksUntilProcessed<T>(
  all: readonly T[],
  chunkSize: number,
  options: Pick<BatchGetItemsOptions, 'tableName' | 'what' | 'retry'>,
  wording: UnprocessedWording,
  call: (pending: readonly T[]) => Promise<readonly T[]>,
): Promise<void> {
  for (let start = 0; start < all.length; start += chunkSize)
    await untilProcessed(all.slice(start, start + chunkSize), options, wording, call);
}

/**
 * Calls `call` with a batch until DynamoDB leaves nothing of it unprocessed, each time with only
 * what it left, backing off through `withRetry`. Throws a `RetryableError` naming how many are
 * left when the retries run out; an error of the call itself comes out as it was (the SDK has
 * retried it already).
 */
async function untilProcessed<T>(
  chunk: readonly T[],
  options: Pick<BatchGetItemsOptions, 'tableName' | 'what' | 'retry'>,
  wording: UnprocessedWording,
  call: (pending: readonly T[]) => Promise<readonly T[]>,
): Promise<void> {
  const { tableName } = options;
  let pending = chunk;
  let unprocessed: RetryableError | undefined;
  try {
    await withRetry(
      async () => {
        pending = await call(pending);
        if (pending.length > 0) {
          unprocessed = new RetryableError(`DynamoDB left ${pending.length} ${wording.left} unprocessed`);
          throw unprocessed;
        }
      },
      {
        preset: 'aws',
        ...options.retry,
        // Only what was left unprocessed: a failed call is the SDK's to retry, and comes out as it was.
        shouldRetry: (error) => error === unprocessed,
        name: `${wording.verb} ${chunk.length} ${options.what} ${wording.verb === 'read' ? 'from' : 'to'} table '${tableName}'`,
      },
    );
  } catch (error) {
    if (!(error instanceof RetriesExhaustedError)) throw error;
    throw new RetryableError(
      `could not ${wording.verb} ${pending.length} of ${chunk.length} ${options.what} ${wording.verb === 'read' ? 'from' : 'to'} table '${tableName}': DynamoDB left them unprocessed after ${error.attempts} attempts (the table is throttled, or the response was over 16 MB); ${wording.noneLost}`,
      { cause: error },
    );
  }
}
