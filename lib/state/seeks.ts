import { randomUUID } from 'node:crypto';
import { ConflictError, MissingResourceError } from '../errors';
import { RetriesExhaustedError } from '../retry/errors';
import type { RetryPolicy } from '../retry/presets';
import { withRetry } from '../retry/with-retry';
import { formatPosition, type Position } from '../time/position';
import { attributeKey, pipelineStateKey, seeksPartition, timedSortKey } from './keys';
import { getState, type PipelineTable } from './pipeline-items';
import { firstActionRefused, newestFirst, transactWrite } from './state-table';
import { PIPELINE_STATUS, type PipelineState, type SeekRecord } from './types';

// Seeks: the one way to move a checkpoint anywhere, each recorded beside the pipeline's state.

/**
 * How many times a seek reads the checkpoint and writes over it before giving up with a
 * `ConflictError` (kind `seek-contention`): each attempt fails only when a checkpoint write or another seek landed between
 * its read and its write, which a fetcher does at most once a page.
 */
export const SEEK_MAX_ATTEMPTS = 8;
const SEEK_RETRY_POLICY: RetryPolicy = {
  maxAttempts: SEEK_MAX_ATTEMPTS,
  initialDelayMs: 20,
  maxDelayMs: 500,
  backoffFactor: 2,
};

/** What a seek moves besides the position. */
export interface SeekOptions {
  /** A new stop position; `null` removes the stored one, `undefined` keeps it. */
  readonly stopAt?: Position | null;
  readonly reason?: string;
}

/** Moves a pipeline's checkpoint to `position` and records the move, retrying on a version conflict. */
export async function seek(
  table: PipelineTable,
  pipeline: string,
  position: Position,
  options: SeekOptions = {},
): Promise<PipelineState> {
  const target = formatPosition(position);
  const stopAt =
    options.stopAt === undefined || options.stopAt === null ? undefined : formatPosition(options.stopAt);
  try {
    await withRetry(
      () =>
        seekOnce(table, pipeline, {
          target,
          stopAt,
          removeStopAt: options.stopAt === null,
          reason: options.reason,
        }),
      {
        preset: SEEK_RETRY_POLICY,
        name: `seek pipeline '${pipeline}'`,
        jitter: 'full',
        // The seek's own condition failed: the checkpoint's version moved between its read and its write.
        shouldRetry: firstActionRefused,
      },
    );
  } catch (error) {
    if (error instanceof RetriesExhaustedError)
      throw new ConflictError(
        { kind: 'seek-contention', pipeline, attempts: error.attempts },
        { cause: error.lastError },
      );
    throw error;
  }
  return (await getState(table, pipeline)) as PipelineState;
}

/** The pipeline's recorded seeks, newest first. */
export async function listSeeks(
  table: PipelineTable,
  pipeline: string,
  limit: number,
): Promise<SeekRecord[]> {
  const items = await newestFirst(table, seeksPartition(pipeline), limit);
  return items.map((item) => ({
    pipeline,
    at: Number(item.at?.N),
    from: item.from?.S as string,
    to: item.to?.S as string,
    ...(item.stopAt?.S ? { stopAt: item.stopAt.S } : {}),
    ...(item.reason?.S ? { reason: item.reason.S } : {}),
  }));
}

/** One read-modify-write of a seek; fails with the transaction's cancellation when the version moved. */
async function seekOnce(
  table: PipelineTable,
  pipeline: string,
  move: {
    readonly target: string;
    readonly stopAt: string | undefined;
    readonly removeStopAt: boolean;
    readonly reason: string | undefined;
  },
): Promise<void> {
  const { target, stopAt, reason } = move;
  const current = await getState(table, pipeline);
  if (!current) throw new MissingResourceError('pipeline', pipeline);
  const now = table.clock();
  const sets = [
    '#position = :position',
    'checkpointToken = :zero',
    'checkpointedAt = :now',
    '#status = :running',
  ];
  if (stopAt !== undefined) sets.push('stopAt = :stopAt');
  // A fetcher's send plan and its events sent ahead belong to the old epoch: the events they name are
  // sent again from here.
  const removes = ['sendPlan', 'sentAhead', ...(move.removeStopAt ? ['stopAt'] : [])];
  await transactWrite(
    table,
    [
      {
        Update: {
          TableName: table.tableName,
          Key: attributeKey(pipelineStateKey(pipeline)),
          UpdateExpression: `SET ${sets.join(', ')} ADD version :one, epoch :one REMOVE ${removes.join(', ')}`,
          ConditionExpression: 'version = :version',
          ExpressionAttributeNames: { '#position': 'position', '#status': 'status' },
          ExpressionAttributeValues: {
            ':position': { S: target },
            ':zero': { N: '0' },
            ':now': { N: String(now) },
            ':running': { S: PIPELINE_STATUS.running },
            ':one': { N: '1' },
            ':version': { N: String(current.version) },
            ...(stopAt === undefined ? {} : { ':stopAt': { S: stopAt } }),
          },
        },
      },
      {
        Put: {
          TableName: table.tableName,
          Item: {
            ...attributeKey({ pk: seeksPartition(pipeline), sk: timedSortKey(now, randomUUID()) }),
            from: { S: formatPosition(current.position) },
            to: { S: target },
            ...(stopAt === undefined ? {} : { stopAt: { S: stopAt } }),
            ...(reason === undefined ? {} : { reason: { S: reason } }),
            at: { N: String(now) },
          },
        },
      },
    ],
    // The SDK retries a request whose response was lost; the token makes that retry a no-op.
    { clientRequestToken: randomUUID() },
  );
}
