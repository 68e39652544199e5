import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { WORKER_ENVIRONMENT } from '../settings/variables';
import { PipelineStore } from '../state/pipeline-store';
import { createWorker, type Worker, type WorkerOptions } from '../worker/create-worker';
import { stageOf } from './define-stages';
import { stageEventHandler } from './stage-handler';
import type { ResolvedStages } from './types';

/** Options of {@link createStageWorker}: the worker's, but for what the stage sets itself. */
export type StageWorkerOptions = Omit<
  WorkerOptions,
  'pipeline' | 'handle' | 'handleBatch' | 'manual' | 'concurrency' | 'maxRedeliveryCount'
>;

/**
 * Makes the Lambda handler of one stage: a worker (see `createWorker`) for the stage's pipeline
 * (`<stages name>.<stage name>`), with the stage's concurrency and `maxRedeliveryCount`, that commits
 * what the stage returns to its output stream with the acknowledgement, and applies its
 * `onStageError`. The rest comes from the options or the `SLUICE_*` environment the `EventStages`
 * construct sets. An aborting stage halts its pipeline in the state table (`dynamodb:UpdateItem`).
 *
 * @example
 * ```ts
 * // functions/transform.ts
 * import { createStageWorker } from 'sluice';
 * import { orders } from '../src/orders-stages';
 * export const handler = createStageWorker(orders, 'transform');
 * ```
 */
export function createStageWorker(
  stages: ResolvedStages,
  stageName: string,
  options: StageWorkerOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): Worker {
  const stage = stageOf(stages, stageName);
  let store: PipelineStore | undefined;
  const halt = async (reason: string) => {
    store ??= new PipelineStore({
      tableName: (options.stateTable ?? env[WORKER_ENVIRONMENT.stateTable]) as string,
      client: options.dynamodb ?? new DynamoDBClient({}),
    });
    await store.haltPipeline(stage.pipeline, reason);
  };
  return createWorker(
    {
      ...options,
      pipeline: stage.pipeline,
      handle: stageEventHandler(stage, { halt }),
      concurrency: stage.concurrency,
      maxRedeliveryCount: stage.maxRedeliveryCount,
    },
    env,
  );
}
