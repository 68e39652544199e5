import type { DynamoDBClient, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { batchGetItems } from '../state/batch-get';
import { attributeKey, contentHashKey, recordKeyOfContentHash } from '../state/keys';
import { conditionally, getItem, updateItem } from '../state/state-table';
import { UPSERT_ACTION, type UpsertAction } from './constants';
import { assertRecordKey, assertResourceName } from './keys';
import { StateTableStore } from './state-table-store';

/** Options of a {@link DynamoDBContentHashStore}. */
export interface DynamoDBContentHashStoreOptions {
  /** A table with string hash key `pk` and string range key `sk` (the state table of a Sluice app). */
  readonly tableName: string;
  /** @default a new DynamoDBClient from the environment */
  readonly client?: DynamoDBClient;
  /** @default Date.now */
  readonly clock?: () => number;
}

/**
 * The last content hash seen of each record of a resource, one small item per record
 * (`pk = sync#<resource>#record#<key>`, `sk = hash`, attribute `hash`), so that a sync writes only
 * records whose content changed. Reads are consistent; writes are conditional.
 *
 * @example
 * ```ts
 * const hashes = new DynamoDBContentHashStore({ tableName: 'sluice-state' });
 * const { action } = await hashes.putIfChanged('crm-customers', 'cus_1', computeContentHash(customer));
 * ```
 */
export class DynamoDBContentHashStore extends StateTableStore {
  constructor(options: DynamoDBContentHashStoreOptions) {
    super(options);
  }

  /**
   * The stored hash of one record, or `undefined` when the record was never seen.
   *
   * @example
   * ```ts
   * const previous = await hashes.getHash('crm-customers', 'cus_1');
   * ```
   */
  async getHash(resource: string, key: string): Promise<string | undefined> {
    assertResourceName(resource);
    assertRecordKey(key);
    return (await getItem(this.table, contentHashKey(resource, key)))?.hash?.S;
  }

  /**
   * The stored hashes of many records at once (BatchGetItem, 100 keys a call, consistent reads), by
   * record key; records never seen are absent from the map. Keys DynamoDB leaves unprocessed are read
   * again with backoff, never dropped (see `batchGetItems`).
   *
   * @example
   * ```ts
   * const known = await hashes.getHashes('crm-customers', page.map((customer) => customer.id));
   * ```
   */
  async getHashes(resource: string, keys: readonly string[]): Promise<Map<string, string>> {
    assertResourceName(resource);
    for (const key of keys) assertRecordKey(key);
    const found = new Map<string, string>();
    const items = await batchGetItems({
      ...this.table,
      keys: [...new Set(keys)].map((key) => attributeKey(contentHashKey(resource, key))),
      what: 'content hashes',
      projection: { expression: 'pk, #hash', names: { '#hash': 'hash' } },
    });
    for (const item of items) {
      const hash = item.hash?.S;
      if (hash !== undefined) found.set(recordKeyOfContentHash(resource, item.pk?.S ?? ''), hash);
    }
    return found;
  }

  /**
   * Writes the record's hash unless it is already stored: one conditional write
   * (`attribute_not_exists(pk) OR hash <> :hash`) whose old value says what happened. Exact under
   * concurrency: of two writers with the same new hash, one gets `created` or `updated` and the other
   * `unchanged`.
   *
   * @example
   * ```ts
   * const { action, previousHash } = await hashes.putIfChanged('crm-customers', 'cus_1', hash);
   * ```
   */
  async putIfChanged(
    resource: string,
    key: string,
    hash: string,
  ): Promise<{ action: UpsertAction; previousHash?: string }> {
    assertResourceName(resource);
    assertRecordKey(key);
    const outcome = await conditionally(
      updateItem(this.table, contentHashKey(resource, key), {
        UpdateExpression: 'SET #hash = :hash, updatedAt = :now',
        ConditionExpression: 'attribute_not_exists(pk) OR #hash <> :hash',
        ExpressionAttributeNames: { '#hash': 'hash' },
        ExpressionAttributeValues: { ':hash': { S: hash }, ':now': { N: String(this.clock()) } },
        ReturnValues: 'ALL_OLD',
      }),
    );
    if (!outcome.landed) return { action: UPSERT_ACTION.unchanged, previousHash: hash };
    const previousHash = outcome.value?.hash?.S;
    return previousHash === undefined
      ? { action: UPSERT_ACTION.created }
      : { action: UPSERT_ACTION.updated, previousHash };
  }

  /**
   * A `Put` of the record's new hash that holds only if the stored hash is still `expected`
   * (`undefined`: no hash stored yet), to put in a transaction beside the write it records, such as
   * `eventLog.commitWith([event], [hashWrite])`. If another writer got there first, the transaction is
   * cancelled and nothing of it is written.
   *
   * @example
   * ```ts
   * await eventLog.commitWith([event], [hashes.conditionalPut('crm-customers', 'cus_1', hash, previous)]);
   * ```
   */
  conditionalPut(
    resource: string,
    key: string,
    hash: string,
    expected: string | undefined,
  ): TransactWriteItem {
    assertResourceName(resource);
    assertRecordKey(key);
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...attributeKey(contentHashKey(resource, key)),
          hash: { S: hash },
          updatedAt: { N: String(this.clock()) },
        },
        ConditionExpression: expected === undefined ? 'attribute_not_exists(pk)' : '#hash = :expected',
        ...(expected === undefined
          ? {}
          : {
              ExpressionAttributeNames: { '#hash': 'hash' },
              ExpressionAttributeValues: { ':expected': { S: expected } },
            }),
      },
    };
  }
}
