import { SluiceError } from '../errors';

/** No pipeline of that name is registered. */
export class PipelineNotFoundError extends SluiceError {
  readonly pipeline: string;

  constructor(pipeline: string) {
    super(`no pipeline named '${pipeline}' is registered`);
    this.name = 'PipelineNotFoundError';
    this.pipeline = pipeline;
  }
}

/**
 * The lease this writer holds is no longer current: another fetcher took the pipeline over (its
 * fencing token is higher) or the lease expired. The write was refused; the writer must stop.
 */
export class LeaseLostError extends SluiceError {
  readonly pipeline: string;
  readonly token: number;
  readonly currentToken: number | undefined;
  readonly currentOwner: string | undefined;

  constructor(details: {
    pipeline: string;
    token: number;
    currentToken?: number;
    currentOwner?: string;
    reason: string;
  }) {
    super(
      `lease on pipeline '${details.pipeline}' with fencing token ${details.token} is lost: ${details.reason}` +
        (details.currentToken === undefined
          ? ''
          : ` (current token ${details.currentToken}, owner ${details.currentOwner ?? 'none'})`),
    );
    this.name = 'LeaseLostError';
    this.pipeline = details.pipeline;
    this.token = details.token;
    this.currentToken = details.currentToken;
    this.currentOwner = details.currentOwner;
  }
}

/** The checkpoint changed since it was read (a seek): the write was refused. */
export class CheckpointConflictError extends SluiceError {
  readonly pipeline: string;
  readonly expectedVersion: number;
  readonly actualVersion: number | undefined;

  constructor(details: { pipeline: string; expectedVersion: number; actualVersion?: number }) {
    super(
      `checkpoint of pipeline '${details.pipeline}' is at version ${details.actualVersion ?? 'unknown'}, not ${details.expectedVersion} as read: it was moved (a seek?) while this writer worked`,
    );
    this.name = 'CheckpointConflictError';
    this.pipeline = details.pipeline;
    this.expectedVersion = details.expectedVersion;
    this.actualVersion = details.actualVersion;
  }
}

/** A checkpoint write that would move the checkpoint backwards; only a seek may do that. */
export class CheckpointRegressionError extends SluiceError {
  readonly pipeline: string;

  constructor(pipeline: string, from: string, to: string) {
    super(
      `checkpoint of pipeline '${pipeline}' may not move back from ${from} to ${to}; use seek() to move it back on purpose`,
    );
    this.name = 'CheckpointRegressionError';
    this.pipeline = pipeline;
  }
}

/**
 * A seek found the checkpoint changed between its read and its write on every attempt: a fetcher was
 * writing checkpoints, or other seeks ran, too often for it to land. Nothing was written.
 */
export class SeekConflictError extends SluiceError {
  readonly pipeline: string;
  readonly attempts: number;

  constructor(details: { pipeline: string; attempts: number }, options?: { cause?: unknown }) {
    super(
      `seek of pipeline '${details.pipeline}' did not land: its checkpoint changed between the read and the write in each of ${details.attempts} attempts (a fetcher writing checkpoints, or another seek); nothing was changed. Seek again, or disable the pipeline (or stop its fetcher) and then seek`,
      options,
    );
    this.name = 'SeekConflictError';
    this.pipeline = details.pipeline;
    this.attempts = details.attempts;
  }
}

/**
 * A checkpoint write would put the pipeline ahead of DynamoDB's clock: the writer's clock runs fast.
 * A checkpoint there would make every reader skip the events still to be committed before it, so it
 * was refused and nothing was written.
 */
export class CheckpointInFutureError extends SluiceError {
  readonly pipeline: string;
  readonly position: string;
  /** The latest DynamoDB's clock can be, as its responses tell it (epoch milliseconds). */
  readonly serverTimeMs: number;

  constructor(details: { pipeline: string; position: string; positionTimeMs: number; serverTimeMs: number }) {
    super(
      `checkpoint of pipeline '${details.pipeline}' at ${details.position} lies ${Math.ceil(details.positionTimeMs - details.serverTimeMs)} ms after DynamoDB's clock (at most ${new Date(details.serverTimeMs).toISOString()}): this machine's clock runs fast; correct it, nothing was written`,
    );
    this.name = 'CheckpointInFutureError';
    this.pipeline = details.pipeline;
    this.position = details.position;
    this.serverTimeMs = details.serverTimeMs;
  }
}
