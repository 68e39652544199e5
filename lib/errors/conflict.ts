import { SluiceError } from './base';

/** A stream's settle window and commit deadline, which every writer and reader of it uses. */
export interface StreamTimingValues {
  readonly settleWindowMs: number;
  readonly commitDeadlineMs: number;
}

/** What a `ConflictError` conflicted with, and what is known of it. */
export type ConflictDetails =
  /** The checkpoint changed since it was read (a seek): the write was refused. */
  | { kind: 'checkpoint-moved'; pipeline: string; expectedVersion: number; actualVersion?: number }
  /** A checkpoint write that would move the checkpoint backwards; only a seek may do that. */
  | { kind: 'checkpoint-regression'; pipeline: string; from: string; position: string }
  /**
   * A checkpoint write that would put the pipeline ahead of DynamoDB's clock (the writer's clock runs
   * fast): every reader would skip the events still to be committed before it.
   */
  | {
      kind: 'checkpoint-in-future';
      pipeline: string;
      position: string;
      positionTimeMs: number;
      serverTimeMs: number;
    }
  /** A seek that found the checkpoint changed between its read and its write on every attempt. */
  | { kind: 'seek-contention'; pipeline: string; attempts: number }
  /** A sync cursor moved by hand (`resetCursor`) since the run holding the lock read it. */
  | { kind: 'cursor-moved'; resource: string; expectedVersion: number; actualVersion?: number }
  /** A backfill id that already names a backfill of the pipeline over a different range or stream. */
  | {
      kind: 'backfill-id-taken';
      pipeline: string;
      backfillId: string;
      backfillPipeline: string;
      reason: string;
    }
  /**
   * A settle window or commit deadline given to an `EventLog` that differs from the one stored with
   * the stream. Both are one setting per stream, shared by every writer and reader: a writer with a
   * longer deadline than readers allow for, or a reader with a shorter window than writers count on,
   * would skip events.
   */
  | {
      kind: 'stream-timing';
      stream: string;
      stored: StreamTimingValues;
      declared: Partial<StreamTimingValues>;
    };

/**
 * A write refused because of what is stored, and nothing was written. `kind` says which:
 *
 * - `checkpoint-moved`: the checkpoint changed since it was read (a seek); `expectedVersion`,
 *   `actualVersion`. A fetcher that meets it stops: the seek has the pipeline now.
 * - `checkpoint-regression`: a checkpoint write would move it back from `from` to `position`; only a
 *   seek may.
 * - `checkpoint-in-future`: a checkpoint at `position` lies after DynamoDB's clock (at most
 *   `serverTimeMs`): this machine's clock runs fast.
 * - `seek-contention`: a seek's checkpoint changed between its read and write in each of `attempts`.
 * - `cursor-moved`: a sync `resource`'s cursor was moved by hand while a run held its lock.
 * - `backfill-id-taken`: `backfillId` already names `backfillPipeline`, over another range or stream.
 * - `stream-timing`: the `stream`'s `stored` settle window and commit deadline differ from those
 *   `declared` to this `EventLog`.
 *
 * Code `conflict`. The fields of other kinds are `undefined`.
 *
 * @example
 * ```ts
 * try {
 *   await store.seek('billing', position, 'replay from Monday');
 * } catch (error) {
 *   if (error instanceof ConflictError && error.kind === 'seek-contention') console.warn(`gave up after ${error.attempts}`);
 *   else throw error;
 * }
 * ```
 */
export class ConflictError extends SluiceError {
  declare readonly code: 'conflict';
  readonly kind: ConflictDetails['kind'];
  /** The pipeline, for every kind but `cursor-moved` and `stream-timing`. */
  readonly pipeline: string | undefined;
  /** For `checkpoint-moved` and `cursor-moved`: the version read, and the one found (when known). */
  readonly expectedVersion: number | undefined;
  readonly actualVersion: number | undefined;
  /** For `checkpoint-regression` and `checkpoint-in-future`: the position refused. */
  readonly position: string | undefined;
  /** For `checkpoint-regression`: the checkpoint it would have moved back from. */
  readonly from: string | undefined;
  /** For `checkpoint-in-future`: the latest DynamoDB's clock can be, as its responses tell it (epoch ms). */
  readonly serverTimeMs: number | undefined;
  /** For `seek-contention`: how many attempts the seek made. */
  readonly attempts: number | undefined;
  /** For `cursor-moved`: the sync resource. */
  readonly resource: string | undefined;
  /** For `backfill-id-taken`: the id asked for, and the backfill pipeline it names already. */
  readonly backfillId: string | undefined;
  readonly backfillPipeline: string | undefined;
  /** For `stream-timing`: the stream, what it has stored, and what this `EventLog` was given. */
  readonly stream: string | undefined;
  readonly stored: StreamTimingValues | undefined;
  readonly declared: Partial<StreamTimingValues> | undefined;

  constructor(details: ConflictDetails, options?: { cause?: unknown }) {
    super(conflictMessage(details), { cause: options?.cause, code: 'conflict' });
    this.name = 'ConflictError';
    this.kind = details.kind;
    // Each kind sets its own fields; the others stay undefined.
    const given = details as unknown as Record<string, unknown>;
    const fields = this as unknown as Record<string, unknown>;
    for (const key of CONFLICT_FIELDS) fields[key] = given[key];
  }
}

/** The fields of `ConflictError` that one kind or another sets. */
const CONFLICT_FIELDS = [
  'pipeline',
  'expectedVersion',
  'actualVersion',
  'position',
  'from',
  'serverTimeMs',
  'attempts',
  'resource',
  'backfillId',
  'backfillPipeline',
  'stream',
  'stored',
  'declared',
] as const satisfies readonly (keyof ConflictError)[];

function conflictMessage(details: ConflictDetails): string {
  switch (details.kind) {
    case 'checkpoint-moved':
      return `checkpoint of pipeline '${details.pipeline}' is at version ${details.actualVersion ?? 'unknown'}, not ${details.expectedVersion} as read: it was moved (a seek?) while this writer worked`;
    case 'checkpoint-regression':
      return `checkpoint of pipeline '${details.pipeline}' may not move back from ${details.from} to ${details.position}; use seek() to move it back on purpose`;
    case 'checkpoint-in-future':
      return `checkpoint of pipeline '${details.pipeline}' at ${details.position} lies ${Math.ceil(details.positionTimeMs - details.serverTimeMs)} ms after DynamoDB's clock (at most ${new Date(details.serverTimeMs).toISOString()}): this machine's clock runs fast; correct it, nothing was written`;
    case 'seek-contention':
      return `seek of pipeline '${details.pipeline}' did not land: its checkpoint changed between the read and the write in each of ${details.attempts} attempts (a fetcher writing checkpoints, or another seek); nothing was changed. Seek again, or disable the pipeline (or stop its fetcher) and then seek`;
    case 'cursor-moved':
      return `cursor of sync resource '${details.resource}' is at version ${details.actualVersion ?? 'unknown'}, not ${details.expectedVersion} as read: it was moved while this run worked`;
    case 'backfill-id-taken':
      return `backfill '${details.backfillId}' of pipeline '${details.pipeline}' already exists as '${details.backfillPipeline}' with ${details.reason}; choose another backfill id`;
    case 'stream-timing': {
      const given = (['settleWindowMs', 'commitDeadlineMs'] as const)
        .filter((key) => details.declared[key] !== undefined && details.declared[key] !== details.stored[key])
        .map((key) => `${key} ${details.declared[key]}`)
        .join(' and ');
      return `stream '${details.stream}' has settleWindowMs ${details.stored.settleWindowMs} and commitDeadlineMs ${details.stored.commitDeadlineMs}, stored with the stream and used by all its writers and readers, but this EventLog was given ${given}; leave them out to use the stream's, or give the same`;
    }
  }
}
