import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { itemSizeBytes } from '../../lib/event-log/item-size';

/** SQS bills every 64 KB (65,536 bytes) of a request's payload as one request. */
export const SQS_BILLING_CHUNK_BYTES = 64 * 1024;
/** One DynamoDB write request unit covers an item of up to 1 KB. */
export const WRITE_UNIT_BYTES = 1024;
/** One DynamoDB read request unit covers a strongly consistent read of up to 4 KB. */
export const READ_UNIT_BYTES = 4096;

/** What one AWS call is billed, by the unit its service bills in. */
export interface BilledCall {
  /** SQS requests, each covering 64 KB of payload; 0 for other services. */
  readonly sqsRequests: number;
  /** DynamoDB write request units. */
  readonly writeUnits: number;
  /** DynamoDB read request units (an eventually consistent read is half a unit per 4 KB). */
  readonly readUnits: number;
  /** The bytes that were billed: message bodies and attributes for SQS, item sizes for DynamoDB. */
  readonly payloadBytes: number;
}

/** A call as the meter saw it: its service, its operation, what was sent and what came back. */
export interface MeteredCall {
  readonly service: 'SQS' | 'DynamoDB' | string;
  readonly operation: string;
  readonly input: unknown;
  /** Undefined when the call failed (a failed conditional write is billed on its input alone). */
  readonly output?: unknown;
}

const FREE: BilledCall = { sqsRequests: 0, writeUnits: 0, readUnits: 0, payloadBytes: 0 };

/**
 * SQS requests billed for a payload: one per started 64 KB chunk, and at least one.
 *
 * @example
 * ```ts
 * sqsRequestsFor(65_536); // 1
 * sqsRequestsFor(65_537); // 2
 * ```
 */
export function sqsRequestsFor(payloadBytes: number): number {
  return Math.max(1, Math.ceil(payloadBytes / SQS_BILLING_CHUNK_BYTES));
}

/**
 * DynamoDB write units for one item: one per started 1 KB, at least one; twice that in a transaction.
 *
 * @example
 * ```ts
 * writeUnitsFor(1_025); // 2
 * writeUnitsFor(1_025, { transactional: true }); // 4
 * ```
 */
export function writeUnitsFor(itemBytes: number, options: { transactional?: boolean } = {}): number {
  const units = Math.max(1, Math.ceil(itemBytes / WRITE_UNIT_BYTES));
  return options.transactional ? units * 2 : units;
}

/**
 * DynamoDB read units for a read of `bytes` (one item, or the sum of what a Query or Scan returned):
 * one per started 4 KB when strongly consistent, half that when eventually consistent, twice that in a
 * transaction. A read that finds nothing still costs the minimum.
 *
 * @example
 * ```ts
 * readUnitsFor(4_097, { consistent: true }); // 2
 * readUnitsFor(4_097, { consistent: false }); // 1
 * ```
 */
export function readUnitsFor(
  bytes: number,
  options: { consistent: boolean; transactional?: boolean },
): number {
  const units = Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
  if (options.transactional) return units * 2;
  return options.consistent ? units : units / 2;
}

/** The size of an SQS message's payload: its body plus each attribute's name, type and value. */
export function sqsMessageBytes(message: {
  readonly MessageBody?: string;
  readonly Body?: string;
  readonly MessageAttributes?: Readonly<
    Record<string, { DataType?: string; StringValue?: string; BinaryValue?: Uint8Array }>
  >;
}): number {
  let bytes = Buffer.byteLength(message.MessageBody ?? message.Body ?? '');
  for (const [name, attribute] of Object.entries(message.MessageAttributes ?? {})) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(attribute.DataType ?? '');
    bytes += attribute.StringValue !== undefined ? Buffer.byteLength(attribute.StringValue) : 0;
    bytes += attribute.BinaryValue?.byteLength ?? 0;
  }
  return bytes;
}

/**
 * What AWS bills for one call, the way it bills it: SQS per 64 KB of message payload (sends by what
 * was sent, receives by what came back); DynamoDB on demand by request units (writes per started
 * 1 KB of each item, reads per started 4 KB, halved when eventually consistent, transactions at
 * double, batch operations per item). Control-plane calls (CreateTable, CreateQueue, ...) are
 * counted by the meter but billed here as SQS requests or as nothing, as AWS does.
 *
 * Where the item a write replaces is unknown (UpdateItem, DeleteItem), the write is billed by what
 * the request carries: its key and values. That is a floor: AWS bills the larger of the item before
 * and after. Queries are billed by the items they return, which equals what they read when no filter
 * expression is used.
 *
 * @example
 * ```ts
 * billCall({ service: 'SQS', operation: 'SendMessageBatch', input: { Entries: [{ MessageBody: 'x'.repeat(70_000) }] } });
 * // { sqsRequests: 2, writeUnits: 0, readUnits: 0, payloadBytes: 70000 }
 * ```
 */
export function billCall(call: MeteredCall): BilledCall {
  if (call.service === 'SQS') return billSqs(call);
  if (call.service === 'DynamoDB') return billDynamoDb(call);
  return FREE;
}

type SqsMessage = Parameters<typeof sqsMessageBytes>[0];

function billSqs(call: MeteredCall): BilledCall {
  const input = (call.input ?? {}) as { Entries?: SqsMessage[] } & SqsMessage;
  const output = (call.output ?? {}) as { Messages?: SqsMessage[] };
  let payloadBytes = 0;
  if (call.operation === 'SendMessage') payloadBytes = sqsMessageBytes(input);
  else if (call.operation === 'SendMessageBatch')
    payloadBytes = (input.Entries ?? []).reduce((sum, entry) => sum + sqsMessageBytes(entry), 0);
  else if (call.operation === 'ReceiveMessage')
    payloadBytes = (output.Messages ?? []).reduce((sum, message) => sum + sqsMessageBytes(message), 0);
  return { ...FREE, sqsRequests: sqsRequestsFor(payloadBytes), payloadBytes };
}

type Item = Record<string, AttributeValue>;
interface WriteRequest {
  readonly PutRequest?: { Item?: Item };
  readonly DeleteRequest?: { Key?: Item };
}
interface TransactWrite {
  readonly Put?: { Item?: Item };
  readonly Update?: { Key?: Item; ExpressionAttributeValues?: Item };
  readonly Delete?: { Key?: Item };
  readonly ConditionCheck?: { Key?: Item };
}

function billDynamoDb(call: MeteredCall): BilledCall {
  const input = (call.input ?? {}) as Record<string, unknown>;
  const output = (call.output ?? {}) as Record<string, unknown>;
  const consistent = input.ConsistentRead === true;
  switch (call.operation) {
    case 'PutItem':
      return writes([itemSizeBytes((input.Item ?? {}) as Item)]);
    case 'UpdateItem':
      return writes([updateSize(input.Key as Item, input.ExpressionAttributeValues as Item)]);
    case 'DeleteItem':
      return writes([itemSizeBytes((input.Key ?? {}) as Item)]);
    case 'BatchWriteItem': {
      const requests = Object.values((input.RequestItems ?? {}) as Record<string, WriteRequest[]>).flat();
      return writes(
        requests.map((request) =>
          itemSizeBytes((request.PutRequest?.Item ?? request.DeleteRequest?.Key ?? {}) as Item),
        ),
      );
    }
    case 'TransactWriteItems': {
      const items = (input.TransactItems ?? []) as TransactWrite[];
      return writes(items.map(transactWriteSize), { transactional: true });
    }
    case 'GetItem': {
      const bytes = output.Item ? itemSizeBytes(output.Item as Item) : 0;
      return reads([bytes], { consistent });
    }
    case 'BatchGetItem': {
      // Each requested key is billed on its own, found or not.
      const requested = (input.RequestItems ?? {}) as Record<
        string,
        { Keys?: Item[]; ConsistentRead?: boolean }
      >;
      const responses = (output.Responses ?? {}) as Record<string, Item[]>;
      let readUnits = 0;
      let payloadBytes = 0;
      for (const [table, request] of Object.entries(requested)) {
        const found = responses[table] ?? [];
        const keys = request.Keys?.length ?? 0;
        for (let index = 0; index < keys; index += 1) {
          const item = found[index];
          const bytes = item ? itemSizeBytes(item) : 0;
          payloadBytes += bytes;
          readUnits += readUnitsFor(bytes, { consistent: request.ConsistentRead === true });
        }
      }
      return { ...FREE, readUnits, payloadBytes };
    }
    case 'TransactGetItems': {
      const found = ((output.Responses ?? []) as { Item?: Item }[]).map((response) =>
        response.Item ? itemSizeBytes(response.Item) : 0,
      );
      const requested = ((input.TransactItems ?? []) as unknown[]).length;
      const sizes = Array.from({ length: requested }, (_, index) => found[index] ?? 0);
      return reads(sizes, { consistent: true, transactional: true });
    }
    case 'Query':
    case 'Scan': {
      const bytes = ((output.Items ?? []) as Item[]).reduce((sum, item) => sum + itemSizeBytes(item), 0);
      return { ...FREE, readUnits: readUnitsFor(bytes, { consistent }), payloadBytes: bytes };
    }
    default:
      return FREE;
  }
}

function writes(sizes: readonly number[], options: { transactional?: boolean } = {}): BilledCall {
  return {
    ...FREE,
    writeUnits: sizes.reduce((sum, bytes) => sum + writeUnitsFor(bytes, options), 0),
    payloadBytes: sizes.reduce((sum, bytes) => sum + bytes, 0),
  };
}

function reads(
  sizes: readonly number[],
  options: { consistent: boolean; transactional?: boolean },
): BilledCall {
  return {
    ...FREE,
    readUnits: sizes.reduce((sum, bytes) => sum + readUnitsFor(bytes, options), 0),
    payloadBytes: sizes.reduce((sum, bytes) => sum + bytes, 0),
  };
}

function updateSize(key: Item | undefined, values: Item | undefined): number {
  return itemSizeBytes(key ?? {}) + itemSizeBytes(values ?? {});
}

function transactWriteSize(item: TransactWrite): number {
  if (item.Put) return itemSizeBytes(item.Put.Item ?? {});
  if (item.Update) return updateSize(item.Update.Key, item.Update.ExpressionAttributeValues);
  return itemSizeBytes(item.Delete?.Key ?? item.ConditionCheck?.Key ?? {});
}
