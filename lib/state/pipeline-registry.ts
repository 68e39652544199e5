import { MissingResourceError } from '../errors';
import {
  type PipelineDefinition,
  type ResolvedPipeline,
  resolvePipeline,
  startPosition,
} from '../pipeline/definition';
import { REGISTRY_PARTITION, registryKey } from './keys';
import { type PipelineTable, registeredPipeline, stateItem } from './pipeline-items';
import { getItem, partitionPages, putItem, refusal, updateItem } from './state-table';
import { PIPELINE_STATUS } from './types';

// The registry of pipeline definitions (one item per pipeline in one partition), and the state item
// a new pipeline starts with.

/** Registers or updates a pipeline; a new one gets its state at its start position. */
export async function putPipeline(
  table: PipelineTable,
  definition: PipelineDefinition,
): Promise<ResolvedPipeline> {
  const pipeline = resolvePipeline(definition);
  const now = table.clock();
  // An update rather than a put, so that a halt (see `haltPipeline`) outlives re-registration: a
  // deployed fetcher registers its definition again on every cold start.
  await updateItem(table, registryKey(pipeline.name), {
    UpdateExpression: 'SET #definition = :definition, updatedAt = :now',
    ExpressionAttributeNames: { '#definition': 'definition' },
    ExpressionAttributeValues: {
      ':definition': { S: JSON.stringify(definition) },
      ':now': { N: String(now) },
    },
  });
  // An existing pipeline keeps its state: the refusal is the answer.
  await refusal(
    putItem(
      table,
      stateItem({
        pipeline: pipeline.name,
        position: startPosition(pipeline.start, now),
        version: 0,
        epoch: 0,
        checkpointToken: 0,
        checkpointedAt: now,
        status: PIPELINE_STATUS.running,
        ...(pipeline.stopAt ? { stopAt: pipeline.stopAt } : {}),
        leaseExpiresAt: 0,
        leaseToken: 0,
      }),
      { ConditionExpression: 'attribute_not_exists(pk)' },
    ),
  );
  return pipeline;
}

/** A pipeline's definition with its defaults, or `undefined`. */
export async function getPipeline(table: PipelineTable, name: string): Promise<ResolvedPipeline | undefined> {
  const item = await getItem(table, registryKey(name));
  return item ? registeredPipeline(item) : undefined;
}

/** Stops a pipeline until `resumePipeline`; a halted pipeline keeps its first reason. */
export async function haltPipeline(table: PipelineTable, name: string, reason: string): Promise<void> {
  await registered(
    name,
    updateItem(table, registryKey(name), {
      UpdateExpression:
        'SET haltedAt = if_not_exists(haltedAt, :now), haltReason = if_not_exists(haltReason, :reason)',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':now': { N: String(table.clock()) }, ':reason': { S: reason } },
    }),
  );
}

/** Lifts a halt set by `haltPipeline`. */
export async function resumePipeline(table: PipelineTable, name: string): Promise<void> {
  await registered(
    name,
    updateItem(table, registryKey(name), {
      UpdateExpression: 'REMOVE haltedAt, haltReason',
      ConditionExpression: 'attribute_exists(pk)',
    }),
  );
}

/** Every registered pipeline; a stored definition that no longer validates is returned in `invalid`. */
export async function listPipelines(table: PipelineTable): Promise<{
  pipelines: ResolvedPipeline[];
  invalid: { name: string; error: Error }[];
}> {
  const pipelines: ResolvedPipeline[] = [];
  const invalid: { name: string; error: Error }[] = [];
  for await (const items of partitionPages(table, REGISTRY_PARTITION)) {
    for (const item of items) {
      const name = item.sk?.S ?? '';
      try {
        pipelines.push(registeredPipeline(item));
      } catch (error) {
        invalid.push({ name, error: error as Error });
      }
    }
  }
  return { pipelines, invalid };
}

/** A write on a registry item that must exist: its refusal means the pipeline is not registered. */
async function registered(name: string, write: Promise<unknown>): Promise<void> {
  if (await refusal(write)) throw new MissingResourceError('pipeline', name);
}
