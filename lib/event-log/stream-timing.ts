import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ConflictError, describe, type StreamTimingValues, ValidationError } from '../errors';
import { wholeMillisecondsProblem } from '../validation/whole-milliseconds';
import { ATTRIBUTES, DEFAULT_SETTLE_WINDOW_MS, defaultCommitDeadlineMs } from './constants';
import { streamTimingKey } from './keys';

/** A stream's settle window and commit deadline, and how the margin between them is shared. */
export interface StreamTiming extends StreamTimingValues {
  /** How far a writer's ids may trail DynamoDB's clock (half the margin). */
  readonly writerMarginMs: number;
  /** How far a reader's horizon may lead DynamoDB's clock minus the window (the other half). */
  readonly readerMarginMs: number;
}

/** Fills what was not given: the default window, and a deadline of two thirds of the window. */
export function resolveStreamTiming(declared: Partial<StreamTimingValues>): StreamTiming {
  const settleWindowMs = declared.settleWindowMs ?? DEFAULT_SETTLE_WINDOW_MS;
  const commitDeadlineMs = declared.commitDeadlineMs ?? defaultCommitDeadlineMs(settleWindowMs);
  return withMargins({ settleWindowMs, commitDeadlineMs });
}

function withMargins(values: StreamTimingValues): StreamTiming {
  const margin = values.settleWindowMs - values.commitDeadlineMs;
  const writerMarginMs = Math.floor(margin / 2);
  return { ...values, writerMarginMs, readerMarginMs: margin - writerMarginMs };
}

/** Every problem with a declared timing, each naming its value; `where` prefixes the names. */
export function streamTimingProblems(where: string, declared: Partial<StreamTimingValues>): string[] {
  const problems: string[] = [];
  const { settleWindowMs: settle, commitDeadlineMs: deadline } = declared;
  const settleProblem =
    settle === undefined
      ? undefined
      : wholeMillisecondsProblem(`${where}settleWindowMs`, settle, { min: 2, max: 3_600_000 });
  const settleValid = settleProblem === undefined;
  if (settleProblem) problems.push(settleProblem);
  if (deadline !== undefined && (!Number.isInteger(deadline) || deadline < 1)) {
    problems.push(
      `${where}commitDeadlineMs must be a whole number of milliseconds above 0 (given ${describe(deadline)})`,
    );
  } else if (settleValid) {
    const resolved = resolveStreamTiming(declared);
    if (resolved.commitDeadlineMs >= resolved.settleWindowMs) {
      problems.push(
        `${where}commitDeadlineMs (${resolved.commitDeadlineMs}) must be below settleWindowMs (${resolved.settleWindowMs}), leaving room for the clocks' uncertainty`,
      );
    }
  }
  return problems;
}

/**
 * The timing stored with a stream, or `undefined` while it has none (a consistent read; it never
 * stores one).
 *
 * @example
 * ```ts
 * (await readStreamTiming(client, 'sluice-events', 'orders'))?.settleWindowMs; // 1500
 * ```
 */
export async function readStreamTiming(
  client: DynamoDBClient,
  tableName: string,
  stream: string,
): Promise<StreamTimingValues | undefined> {
  const found = await client.send(
    new GetItemCommand({ TableName: tableName, Key: timingItemKey(stream), ConsistentRead: true }),
  );
  return found.Item ? parseTiming(stream, found.Item) : undefined;
}

/**
 * The timing stored with a stream, stored now (with what was declared, or the defaults) if the stream
 * has none yet. Fails with `ConflictError` with kind `stream-timing` when something declared differs from what is
 * stored.
 */
export async function loadStreamTiming(
  client: DynamoDBClient,
  tableName: string,
  stream: string,
  declared: Partial<StreamTimingValues>,
): Promise<StreamTiming> {
  let stored = await readStreamTiming(client, tableName, stream);
  if (!stored) {
    const created = resolveStreamTiming(declared);
    try {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: timingItem(stream, created),
          ConditionExpression: `attribute_not_exists(${ATTRIBUTES.partitionKey})`,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      stored = created;
    } catch (error) {
      // Another writer or reader stored it first: theirs holds.
      if (!(error instanceof ConditionalCheckFailedException) || !error.Item) throw error;
      stored = parseTiming(stream, error.Item);
    }
  }
  const differs =
    (declared.settleWindowMs !== undefined && declared.settleWindowMs !== stored.settleWindowMs) ||
    (declared.commitDeadlineMs !== undefined && declared.commitDeadlineMs !== stored.commitDeadlineMs);
  if (differs) throw new ConflictError({ kind: 'stream-timing', stream, stored, declared });
  return withMargins(stored);
}

function timingItemKey(stream: string): Record<string, AttributeValue> {
  const { pk, sk } = streamTimingKey(stream);
  return { [ATTRIBUTES.partitionKey]: { S: pk }, [ATTRIBUTES.sortKey]: { S: sk } };
}

function timingItem(stream: string, timing: StreamTimingValues): Record<string, AttributeValue> {
  return {
    ...timingItemKey(stream),
    [ATTRIBUTES.settleWindowMs]: { N: String(timing.settleWindowMs) },
    [ATTRIBUTES.commitDeadlineMs]: { N: String(timing.commitDeadlineMs) },
  };
}

function parseTiming(stream: string, item: Record<string, AttributeValue>): StreamTimingValues {
  const settleWindowMs = Number(item[ATTRIBUTES.settleWindowMs]?.N);
  const commitDeadlineMs = Number(item[ATTRIBUTES.commitDeadlineMs]?.N);
  if (
    !(
      Number.isInteger(settleWindowMs) &&
      Number.isInteger(commitDeadlineMs) &&
      commitDeadlineMs < settleWindowMs
    )
  ) {
    throw new ValidationError(
      `the timing stored with stream '${stream}' is malformed (settleWindowMs ${describe(item[ATTRIBUTES.settleWindowMs])}, commitDeadlineMs ${describe(item[ATTRIBUTES.commitDeadlineMs])})`,
      item,
    );
  }
  return { settleWindowMs, commitDeadlineMs };
}
