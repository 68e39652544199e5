import type { FailedHandler } from '../failed/types';
import type { PipelineStart } from '../pipeline/definition';
import type { HandlerContext, WorkerEvent } from '../worker/types';
import type { OnStageError } from './constants';

/**
 * A stage's handler. What it returns is passed on: `undefined` or `null` passes nothing (the event is
 * filtered out), any other value becomes the `data` of one event committed to the stage's output
 * stream, atomically with the acknowledgement of the event it handled. To pass on several events,
 * call `context.commit` with them. Throw to fail the event (see `onStageError`).
 */
export type StageHandler<TIn = unknown, TOut = unknown> = (
  event: WorkerEvent<TIn>,
  context: HandlerContext,
) => Promise<TOut | undefined | null> | TOut | undefined | null;

/** One stage: a pipeline of its own, reading the previous stage's output. */
export interface StageDefinition {
  /** Unique among the stages; the stage's pipeline is `<stages name>.<stage name>`. */
  readonly name: string;
  /** Typed by what it takes and returns, such as `StageHandler<RawOrder, OrderLine>`. */
  readonly handle: StageHandler<never, unknown>;
  /**
   * Where its results go. Every stage but the last has an output; the last has one only when this is
   * given (otherwise what it returns is dropped).
   * @default `{ stream: '<stages name>.<stage name>' }`, with the type of the event handled
   */
  readonly output?: { readonly stream?: string; readonly type?: string };
  /** Events handled at once by one worker invocation. @default 10 */
  readonly concurrency?: number;
  /** Messages per worker invocation, 1 to 10. @default 10 */
  readonly batchSize?: number;
  /** The worker's timeout, in milliseconds, 1000 to 900000. @default 30000 */
  readonly timeoutMs?: number;
  /** Attempts an event gets before it goes to the failed handler, 1 to 100. @default 5 */
  readonly maxRedeliveryCount?: number;
  /** The most messages waiting or in flight in the stage's queue before its fetcher pauses. @default 1000 */
  readonly bufferSize?: number;
  /** Events packed into one message; 1 sends one event per message. @default 100 */
  readonly maxEventsPerMessage?: number;
  /** What a thrown error does: `retry`, `skip` or `abort` (see `ON_STAGE_ERROR`). @default 'retry' */
  readonly onStageError?: OnStageError;
  /** Told of events that failed for good. @default logs each failure */
  readonly failedHandler?: FailedHandler;
}

/**
 * A multi-stage pipeline: the first stage reads `source.stream`, each next stage reads its
 * predecessor's output.
 */
export interface StagesDefinition {
  /** Names the stages' pipelines and streams; same rule as stream names. */
  readonly name: string;
  readonly source: {
    readonly stream: string;
    /** Only events of these types enter the first stage. @default every type */
    readonly eventTypes?: readonly string[];
    /** Where the first stage starts reading. @default 'latest'; later stages start at 'earliest' of their streams */
    readonly start?: PipelineStart;
  };
  /** One or more stages, run in this order. */
  readonly stages: readonly StageDefinition[];
}

/** A stage with its streams named and every default filled in. */
export interface ResolvedStage {
  readonly name: string;
  /** Its pipeline's name: `<stages name>.<stage name>`. */
  readonly pipeline: string;
  /** The stream it reads. */
  readonly stream: string;
  readonly eventTypes?: readonly string[];
  readonly start: PipelineStart;
  readonly output?: { readonly stream: string; readonly type?: string };
  readonly handle: StageHandler<never, unknown>;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly timeoutMs: number;
  readonly maxRedeliveryCount: number;
  readonly bufferSize: number;
  readonly maxEventsPerMessage: number;
  readonly onStageError: OnStageError;
  readonly failedHandler?: FailedHandler;
}

/** A checked stages definition: what {@link defineStages} returns. */
export interface ResolvedStages {
  readonly name: string;
  readonly source: StagesDefinition['source'];
  readonly stages: readonly ResolvedStage[];
}
