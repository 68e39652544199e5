import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
  QueryCommand,
  type QueryCommandInput,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { attributeKey, type TableKey } from './keys';
import { sendNamingTable } from './send-naming-table';

// The calls every store of the state table makes, in one place: reads by key, newest-first and
// whole-partition queries, and conditional writes whose refusal is an answer rather than an error.

/** An item of the state table, as DynamoDB returns it. */
export type Item = Record<string, AttributeValue>;

/** Where a store reads and writes: the state table, and the `send` that reaches it. */
export interface StateTable {
  readonly tableName: string;
  /** `client.send`, or a wrapper of it (such as `sendNamingTable`'s). */
  readonly send: DynamoDBClient['send'];
}

/**
 * A store's handle on the state table: its client (a new one from the environment when none is
 * given), and a `send` that names the table when it does not exist.
 *
 * @example
 * ```ts
 * const { client, table } = openStateTable({ tableName: 'sluice-state' });
 * ```
 */
export function openStateTable(options: { readonly tableName: string; readonly client?: DynamoDBClient }): {
  readonly client: DynamoDBClient;
  readonly table: StateTable;
} {
  const client = options.client ?? new DynamoDBClient({});
  return {
    client,
    table: { tableName: options.tableName, send: sendNamingTable(client, options.tableName, 'state table') },
  };
}

/**
 * One item by key, read consistently; `undefined` when there is none.
 *
 * @example
 * ```ts
 * const item = await getItem(table, pipelineStateKey('billing'));
 * ```
 */
export async function getItem(table: StateTable, key: TableKey): Promise<Item | undefined> {
  const output = await table.send(
    new GetItemCommand({ TableName: table.tableName, Key: attributeKey(key), ConsistentRead: true }),
  );
  return output.Item;
}

/** Puts a whole item, with the condition of `options` if any. */
export async function putItem(
  table: StateTable,
  item: Item,
  options: Omit<PutItemCommandInput, 'TableName' | 'Item'> = {},
): Promise<void> {
  await table.send(new PutItemCommand({ ...options, TableName: table.tableName, Item: item }));
}

/** Updates the item at `key`; resolves to what `ReturnValues` asked for. */
export async function updateItem(
  table: StateTable,
  key: TableKey,
  update: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>,
): Promise<Item | undefined> {
  const output = await table.send(
    new UpdateItemCommand({ ...update, TableName: table.tableName, Key: attributeKey(key) }),
  );
  return output.Attributes;
}

/** Writes the actions in one transaction. */
export async function transactWrite(
  table: StateTable,
  writes: TransactWriteItem[],
  options: { readonly clientRequestToken?: string } = {},
): Promise<void> {
  await table.send(
    new TransactWriteItemsCommand({
      ...(options.clientRequestToken ? { ClientRequestToken: options.clientRequestToken } : {}),
      TransactItems: writes,
    }),
  );
}

/**
 * The newest `limit` items of a record list (runs, seeks), whose sort keys start with a timestamp.
 *
 * @example
 * ```ts
 * const [latest] = await newestFirst(table, pipelineRunsPartition('billing'), 1);
 * ```
 */
export async function newestFirst(table: StateTable, partitionKey: string, limit: number): Promise<Item[]> {
  const output = await table.send(
    partitionQuery(table, partitionKey, { ScanIndexForward: false, Limit: limit }),
  );
  return output.Items ?? [];
}

/**
 * Every item of a partition, a page at a time, read consistently.
 *
 * @example
 * ```ts
 * for await (const items of partitionPages(table, REGISTRY_PARTITION)) console.log(items.length);
 * ```
 */
export async function* partitionPages(table: StateTable, partitionKey: string): AsyncGenerator<Item[]> {
  let startKey: Item | undefined;
  do {
    const output = await table.send(partitionQuery(table, partitionKey, { ExclusiveStartKey: startKey }));
    yield output.Items ?? [];
    startKey = output.LastEvaluatedKey;
  } while (startKey);
}

/** A conditional write DynamoDB refused, with the item it found when the write asked for it (`ALL_OLD`). */
export interface Refusal {
  readonly item: Item | undefined;
}

/**
 * Runs a conditional write; resolves to what it returned when it landed, or to the item its failed
 * condition found (`ALL_OLD`, when the write asked for it). Any other error passes unchanged.
 *
 * @example
 * ```ts
 * const outcome = await conditionally(updateItem(table, key, { ConditionExpression: 'attribute_not_exists(pk)', ... }));
 * if (!outcome.landed) console.log(outcome.item);
 * ```
 */
export async function conditionally<T>(
  write: Promise<T>,
): Promise<{ readonly landed: true; readonly value: T } | ({ readonly landed: false } & Refusal)> {
  try {
    return { landed: true, value: await write };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return { landed: false, item: error.Item };
    throw error;
  }
}

/**
 * Runs a conditional write; resolves to `undefined` when it landed, or to the {@link Refusal} when
 * its condition failed. Any other error passes unchanged.
 *
 * @example
 * ```ts
 * const refused = await refusal(updateItem(table, key, { ConditionExpression: 'attribute_exists(pk)', ... }));
 * if (refused) throw new MissingResourceError('pipeline', name);
 * ```
 */
export async function refusal(write: Promise<unknown>): Promise<Refusal | undefined> {
  const outcome = await conditionally(write);
  return outcome.landed ? undefined : { item: outcome.item };
}

/**
 * Whether a transaction was cancelled because the condition of its first action failed.
 *
 * @example
 * ```ts
 * if (firstActionRefused(error)) throw new LeaseLostError({ lease: 'failed-event claim', ... });
 * ```
 */
export function firstActionRefused(error: unknown): boolean {
  return (
    error instanceof TransactionCanceledException &&
    error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
  );
}

/** A consistent query of the items of one partition, in the order and from the place `page` says. */
function partitionQuery(
  table: StateTable,
  partitionKey: string,
  page: Pick<QueryCommandInput, 'ScanIndexForward' | 'Limit' | 'ExclusiveStartKey'>,
): QueryCommand {
  return new QueryCommand({
    TableName: table.tableName,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': { S: partitionKey } },
    ConsistentRead: true,
    ...page,
  });
}
