import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { describe, ValidationError } from '../errors';
import { attributeKey, daysNewestFirst, isKeyTime, sortKeyRange } from '../state/keys';
import type { Item } from '../state/state-table';
import { DEFAULT_LIST_LIMIT, DEFAULT_LIST_SPAN_DAYS, MAX_LIST_LIMIT, MAX_LIST_SPAN_DAYS } from './constants';
import { checkPipeline, type FailureTable } from './failure-items';
import { decodeListCursor, encodeListCursor } from './list-cursor';
import type { ListRecordsOptions } from './records';

// Listing records kept in day partitions (failures, malformed messages), newest first, a page at a time.

const DAY_MS = 86_400_000;

/** Reads day partitions from `to` back to `from`, newest first, until `limit` items are found. */
export async function listDays<T>(
  table: FailureTable,
  partition: (day: string) => string,
  pipeline: string,
  options: ListRecordsOptions,
  parse: (item: Item) => T,
): Promise<{ items: T[]; cursor?: string }> {
  checkPipeline(pipeline);
  const { fromMs, toMs, limit } = listRange(options, table.clock());
  const days = daysNewestFirst(fromMs, toMs);
  let first = 0;
  let startKey: Item | undefined;
  if (options.cursor !== undefined) {
    const position = decodeListCursor(options.cursor);
    first = days.indexOf(position.day);
    if (first < 0) {
      throw new ValidationError(
        `cursor points at day ${position.day}, outside the listing's range of ${days.at(-1)} to ${days[0]}: pass the same from and to as the listing that returned it`,
        options.cursor,
      );
    }
    if (position.sortKey !== undefined) {
      startKey = attributeKey({ pk: partition(position.day), sk: position.sortKey });
    }
  }
  const range = sortKeyRange(fromMs, toMs);
  const items: T[] = [];
  for (let index = first; index < days.length; index += 1) {
    const day = days[index] as string;
    let exclusiveStartKey = index === first ? startKey : undefined;
    do {
      const output = await table.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
          ExpressionAttributeValues: {
            ':pk': { S: partition(day) },
            ':low': { S: range.low },
            ':high': { S: range.high },
          },
          ScanIndexForward: false,
          Limit: limit - items.length,
          ExclusiveStartKey: exclusiveStartKey,
          ConsistentRead: true,
        }),
      );
      for (const item of output.Items ?? []) items.push(parse(item));
      exclusiveStartKey = output.LastEvaluatedKey;
      if (items.length >= limit) {
        const lastKey = exclusiveStartKey?.sk?.S;
        if (lastKey !== undefined) return { items, cursor: encodeListCursor({ day, sortKey: lastKey }) };
        const next = days[index + 1];
        return next === undefined ? { items } : { items, cursor: encodeListCursor({ day: next }) };
      }
    } while (exclusiveStartKey);
  }
  return { items };
}

/**
 * The checked range and limit of a listing: `to` defaults to now and `from` to `DEFAULT_LIST_SPAN_DAYS` (30) days before it.
 *
 * @example
 * ```ts
 * listRange({ limit: 10 }, Date.now()); // { fromMs, toMs, limit: 10 }
 * ```
 */
export function listRange(
  options: ListRecordsOptions,
  nowMs: number,
): { fromMs: number; toMs: number; limit: number } {
  const problems: string[] = [];
  const toMs = options.to === undefined ? nowMs : instantMs(options.to);
  const fromMs =
    options.from === undefined ? toMs - DEFAULT_LIST_SPAN_DAYS * DAY_MS : instantMs(options.from);
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  if (!isKeyTime(toMs)) problems.push(`to must be a time from 1970 to 9999 (given ${describe(options.to)})`);
  if (!isKeyTime(fromMs))
    problems.push(`from must be a time from 1970 to 9999 (given ${describe(options.from)})`);
  if (isKeyTime(fromMs) && isKeyTime(toMs)) {
    if (fromMs > toMs) {
      problems.push(
        `from must not be after to (given from ${new Date(fromMs).toISOString()}, to ${new Date(toMs).toISOString()})`,
      );
    } else if (toMs - fromMs > MAX_LIST_SPAN_DAYS * DAY_MS) {
      problems.push(
        `from and to must be at most ${MAX_LIST_SPAN_DAYS} days apart (given ${Math.ceil((toMs - fromMs) / DAY_MS)} days)`,
      );
    }
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    problems.push(
      `limit must be a whole number from 1 to ${MAX_LIST_LIMIT} (given ${describe(options.limit)})`,
    );
  }
  if (problems.length > 0) throw new ValidationError(`invalid listing: ${problems.join('; ')}`, options);
  return { fromMs, toMs, limit };
}

function instantMs(value: Date | number): number {
  return value instanceof Date ? value.getTime() : value;
}
