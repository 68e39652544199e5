import { InvalidDefinitionError, SluiceError } from '../errors';

/**
 * A backfill request that breaks the rules; `problems` lists each, naming the value given.
 *
 * @example
 * ```ts
 * try {
 *   parseBackfillRequest(event.detail);
 * } catch (error) {
 *   if (error instanceof InvalidBackfillRequestError) console.error(error.problems);
 * }
 * ```
 */
export class InvalidBackfillRequestError extends InvalidDefinitionError {
  constructor(problems: readonly string[], value: unknown) {
    super('backfill request', problems, value);
    this.name = 'InvalidBackfillRequestError';
  }
}

/**
 * A backfill id already names a backfill of the pipeline over a different range or stream: the
 * request was refused rather than silently ignored.
 *
 * @example
 * ```ts
 * if (error instanceof BackfillConflictError) console.error(error.backfillPipeline);
 * ```
 */
export class BackfillConflictError extends SluiceError {
  readonly pipeline: string;
  readonly backfillId: string;
  readonly backfillPipeline: string;

  constructor(details: { pipeline: string; backfillId: string; backfillPipeline: string; reason: string }) {
    super(
      `backfill '${details.backfillId}' of pipeline '${details.pipeline}' already exists as '${details.backfillPipeline}' with ${details.reason}; choose another backfill id`,
    );
    this.name = 'BackfillConflictError';
    this.pipeline = details.pipeline;
    this.backfillId = details.backfillId;
    this.backfillPipeline = details.backfillPipeline;
  }
}
