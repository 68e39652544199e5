import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { SluiceError } from '../errors';
import { parseBackfillPipelineName } from '../pipeline/backfill-names';
import { startPosition } from '../pipeline/definition';
import { attributeKey, backfillCompletedKey } from '../state/keys';
import type { PipelineStore } from '../state/pipeline-store';
import { PIPELINE_STATUS } from '../state/types';
import { formatPosition } from '../time/position';
import { BACKFILL_EVENTS } from './constants';
import type { BackfillCompletedDetail, PutBackfillEvents } from './types';

/** Options of {@link emitBackfillCompleted} and {@link emitCompletedBackfills}. */
export interface EmitBackfillCompletedOptions {
  /** The client of the state table, where the once-only markers are written. */
  readonly client: DynamoDBClient;
  /** Puts the "Backfill Completed" event on the bus. */
  readonly putEvents: PutBackfillEvents;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** Filters of {@link emitCompletedBackfills}. */
export interface CompletedBackfillsFilter {
  /** Only backfills of this pipeline. @default every pipeline's */
  readonly pipeline?: string;
  /** Only backfills feeding this queue. @default any queue */
  readonly queueUrl?: string;
}

/** How many run records are read to add up the events sent. */
const RUNS_READ = 100;

/**
 * Emits "Backfill Completed" for one backfill if it has completed and no one has emitted it yet: a
 * conditional write of a marker in the state table makes sure only one caller emits it. If the bus
 * refuses the event, the marker is taken back so that a later call tries again. Resolves to the
 * detail emitted, or `undefined` when there was nothing to emit.
 *
 * Call it where a fetcher run reports the outcome `completed` for a backfill pipeline.
 *
 * @example
 * ```ts
 * for (const [name, run] of Object.entries(summary.pipelines))
 *   if (run.outcome === 'completed') await emitBackfillCompleted(store, name, { client, putEvents });
 * ```
 */
export async function emitBackfillCompleted(
  store: PipelineStore,
  backfillPipeline: string,
  options: EmitBackfillCompletedOptions,
): Promise<BackfillCompletedDetail | undefined> {
  const names = parseBackfillPipelineName(backfillPipeline);
  if (!names) return undefined;
  const key = attributeKey(backfillCompletedKey(backfillPipeline));
  const marker = await options.client.send(
    new GetItemCommand({ TableName: store.tableName, Key: key, ConsistentRead: true }),
  );
  if (marker.Item) return undefined;
  const [definition, state] = await Promise.all([
    store.getPipeline(backfillPipeline),
    store.getState(backfillPipeline),
  ]);
  if (!definition?.stopAt || state?.status !== PIPELINE_STATUS.completed) return undefined;

  try {
    await options.client.send(
      new PutItemCommand({
        TableName: store.tableName,
        Item: { ...key, emittedAt: { N: String((options.clock ?? Date.now)()) } },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
  const runs = await store.listRuns(backfillPipeline, RUNS_READ);
  const detail: BackfillCompletedDetail = {
    pipeline: names.pipeline,
    backfillId: names.backfillId,
    backfillPipeline,
    from: formatPosition(startPosition(definition.start, 0)),
    to: formatPosition(definition.stopAt),
    eventsSent: runs.reduce((sum, run) => sum + (run.counts?.eventsSent ?? 0), 0),
  };
  try {
    await options.putEvents([
      { source: BACKFILL_EVENTS.source, detailType: BACKFILL_EVENTS.completed, detail },
    ]);
  } catch (error) {
    await options.client
      .send(new DeleteItemCommand({ TableName: store.tableName, Key: key }))
      .catch(() => undefined);
    throw new SluiceError(
      `could not emit "Backfill Completed" for ${backfillPipeline}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return detail;
}

/**
 * Emits "Backfill Completed" once for every completed backfill not yet announced (see
 * {@link emitBackfillCompleted}), optionally only those of one pipeline or one queue. For a poller
 * beside the fetcher; resolves to the details emitted. One backfill's failure does not stop the
 * others; the first is thrown at the end.
 *
 * @example
 * ```ts
 * await emitCompletedBackfills(store, { client, putEvents: (entries) => bus.putEvents(entries) });
 * ```
 */
export async function emitCompletedBackfills(
  store: PipelineStore,
  options: EmitBackfillCompletedOptions & CompletedBackfillsFilter,
): Promise<BackfillCompletedDetail[]> {
  const { pipelines } = await store.listPipelines();
  const candidates = pipelines.filter((pipeline) => {
    const names = parseBackfillPipelineName(pipeline.name);
    if (!names) return false;
    if (options.pipeline !== undefined && names.pipeline !== options.pipeline) return false;
    return options.queueUrl === undefined || pipeline.queueUrl === options.queueUrl;
  });
  const emitted: BackfillCompletedDetail[] = [];
  let firstError: unknown;
  for (const pipeline of candidates) {
    try {
      const detail = await emitBackfillCompleted(store, pipeline.name, options);
      if (detail) emitted.push(detail);
    } catch (error) {
      firstError ??= error;
    }
  }
  if (firstError !== undefined) throw firstError;
  return emitted;
}
