import type { RunCounts, RunRecord } from '../state/types';

/** The places in a fetch where a test can stop the fetcher as if its process died. */
export const FETCHER_STEPS = {
  afterLease: 'after-lease',
  afterRead: 'after-read',
  afterSend: 'after-send',
  beforeCheckpoint: 'before-checkpoint',
  afterCheckpoint: 'after-checkpoint',
  beforeRelease: 'before-release',
} as const;
export type FetcherStep = (typeof FETCHER_STEPS)[keyof typeof FETCHER_STEPS];

/**
 * Called at each named step. Production code leaves it out; a test that throws from it stops the
 * fetcher on the spot, with no cleanup, exactly as a crash would (the error comes out of `run()`).
 */
export type FetcherStepHook = (step: FetcherStep, context: { pipeline: string }) => void | Promise<void>;

/** Structured logging, as Powertools Logger offers it. */
export interface FetcherLogger {
  debug(message: string, ...extra: unknown[]): void;
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  error(message: string, ...extra: unknown[]): void;
}

/** Told how each run of a pipeline ended (@systemoperator/sync's notifier). */
export interface RunNotifier {
  onRunFinished?(run: RunRecord): void | Promise<void>;
  onRunFailed?(run: RunRecord): void | Promise<void>;
}

/** How a fetcher's work on one pipeline ended. */
export const PIPELINE_OUTCOME = {
  /** Another fetcher holds the lease. */
  locked: 'locked',
  /** The pipeline is disabled. */
  disabled: 'disabled',
  /** It reached its stopAt earlier. */
  alreadyCompleted: 'already-completed',
  /** It ran until the budget ended, caught up or paused for backpressure. */
  finished: 'finished',
  /** It reached its stopAt in this run. */
  completed: 'completed',
  /** It stopped on an error (recorded in the run). */
  failed: 'failed',
} as const;
export type PipelineOutcome = (typeof PIPELINE_OUTCOME)[keyof typeof PIPELINE_OUTCOME];

/** What a fetcher run did for one pipeline. */
export interface PipelineRunSummary {
  readonly pipeline: string;
  readonly outcome: PipelineOutcome;
  readonly stopReason?: string;
  readonly counts: RunCounts;
  readonly error?: Error;
  /** Now minus the time of the checkpoint's position: how far behind the log the pipeline is. */
  readonly lagMs?: number;
  readonly position?: string;
  readonly durationMs: number;
  /**
   * Set when the run read events that had passed the stream's retention: DynamoDB TTL may have
   * deleted some of them before this pipeline read them. The range, as positions (`formatPosition`),
   * is where events may be missing: those after `from`, up to `to`.
   */
  readonly expired?: { readonly from: string; readonly to: string };
  /**
   * The run ended with events committed past its position, and started another run (`handOff`) to
   * read through this id.
   */
  readonly handedOffThrough?: string;
}

/** What one `Fetcher.run()` did. */
export interface FetcherRunSummary {
  readonly pipelines: Record<string, PipelineRunSummary>;
  readonly durationMs: number;
}

/** Receives each pipeline's summary, to publish as metrics. */
export interface FetcherMetrics {
  recordPipelineRun(summary: PipelineRunSummary): void;
}

/** Fresh counters. */
export function emptyCounts(): RunCounts {
  return { eventsRead: 0, eventsSent: 0, messagesSent: 0, bytesSent: 0, pages: 0, checkpoints: 0 };
}
