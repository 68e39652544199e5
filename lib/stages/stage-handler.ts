import type { EventInput } from '../event-log/types';
import { NonRetryableError } from '../retry/errors';
import type { EventHandler, WorkerEvent } from '../worker/types';
import { ON_STAGE_ERROR } from './constants';
import type { ResolvedStage } from './types';

/** What a stage's handler needs besides the stage. */
export interface StageHandlerDependencies {
  /** Halts the stage's pipeline, for `onStageError: 'abort'`. */
  readonly halt: (reason: string) => Promise<void>;
}

/**
 * Turns a stage into a worker's per-event handler: what the stage's handler returns becomes an output
 * event on the stage's output stream (with the type and partition key of the event handled, unless the
 * output names a type), and a thrown error is treated as `onStageError` says.
 *
 * @example
 * ```ts
 * const handle = stageEventHandler(stageOf(orders, 'transform'), { halt: (reason) => store.haltPipeline('orders.transform', reason) });
 * ```
 */
export function stageEventHandler(
  stage: ResolvedStage,
  dependencies: StageHandlerDependencies,
): EventHandler {
  return async (event, context) => {
    let result: unknown;
    try {
      result = await stage.handle(event as WorkerEvent<never>, context);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (stage.onStageError === ON_STAGE_ERROR.skip)
        throw new NonRetryableError(`stage ${stage.name} skipped event ${event.id}: ${message}`, {
          cause: error,
        });
      if (stage.onStageError === ON_STAGE_ERROR.abort)
        await dependencies.halt(`stage ${stage.name} aborted on event ${event.id}: ${message}`);
      throw error;
    }
    if (result === undefined || result === null || stage.output === undefined) return undefined;
    const output: EventInput = {
      stream: stage.output.stream,
      type: stage.output.type ?? event.type,
      data: result,
      ...(event.partitionKey !== undefined ? { partitionKey: event.partitionKey } : {}),
    };
    return output;
  };
}
