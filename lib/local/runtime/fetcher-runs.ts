import type { SQSClient } from '@aws-sdk/client-sqs';
import type { EventLog } from '../../event-log/event-log';
import { Fetcher } from '../../fetcher/fetcher';
import type { FetcherRunSummary } from '../../fetcher/types';
import type { PipelineStore } from '../../state/pipeline-store';
import { WOKEN_RUN_UNTIL_IDLE_MS } from '../../wake/wake-routes';
import { CuttableWaits } from './cuttable-waits';
import { FixedRateSchedule } from './schedule';

/** A clock this far ahead ends a running fetch at once, as its deadline would. */
const FAR_FUTURE_MS = 10 * 365 * 86_400_000;

/** Settings of {@link LocalFetcherRuns}. */
export interface LocalFetcherRunsOptions {
  readonly store: PipelineStore;
  readonly eventLog: EventLog;
  readonly sqs: SQSClient;
  readonly pipeline: string;
  readonly pollIntervalMs: number;
  readonly timeoutMs: number;
  /** Whether each run leaves once idle, as woken runs do, rather than tailing the log until its deadline. */
  readonly untilIdle: boolean;
  /** Told of a run that failed and that no caller awaits: one queued by a hand-off. */
  readonly onError: (error: unknown) => void;
}

/**
 * A pipeline's fetcher, run one run at a time as a fetcher function with a reserved concurrency of 1:
 * woken and scheduled runs queue behind each other. Its waits (polls of the live edge, backoffs) can
 * be cut short, by a wake-up or a stop; a stop also ends a running fetch at once, which then saves its
 * checkpoint and lease.
 *
 * @example
 * ```ts
 * const runs = new LocalFetcherRuns({ store, eventLog, sqs, pipeline: 'billing', pollIntervalMs: 1_000, timeoutMs: 60_000, untilIdle: true, onError: console.error });
 * await runs.run(() => Date.now() + 60_000);
 * await runs.stop();
 * ```
 */
export class LocalFetcherRuns {
  readonly timeoutMs: number;
  private readonly fetcher: Fetcher;
  private readonly untilIdle: boolean;
  private readonly waits = new CuttableWaits();
  private stopping = false;
  private runs: Promise<void> = Promise.resolve();
  private last?: FetcherRunSummary;

  constructor(options: LocalFetcherRunsOptions) {
    this.timeoutMs = options.timeoutMs;
    this.untilIdle = options.untilIdle;
    this.fetcher = new Fetcher({
      store: options.store,
      source: options.eventLog,
      sqs: options.sqs,
      pipelines: [options.pipeline],
      owner: `local-fetcher-${options.pipeline}`,
      pollIntervalMs: options.pollIntervalMs,
      idleCheckpointIntervalMs: 1_000,
      // Up to 3 s of a run kept back to save its checkpoint and lease.
      finalizeReserveMs: Math.min(3_000, Math.floor(options.timeoutMs / 4)),
      clock: () => Date.now() + (this.stopping ? FAR_FUTURE_MS : 0),
      sleep: (ms) => this.waits.wait(ms),
      // A run that reaches its deadline with events still settling queues the next run for them, as
      // the deployed fetcher invokes itself. Not awaited: it runs after this one.
      handOff: async (_pipeline, readThrough) => {
        if (this.stopping || !this.untilIdle) return;
        this.run(() => Date.now() + this.timeoutMs, readThrough).catch(options.onError);
      },
    });
  }

  /** The summary of the last run that ended. */
  get lastRun(): FetcherRunSummary | undefined {
    return this.last;
  }

  /** Whether a stop has begun. */
  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Runs the fetcher once the runs before it have ended, until `deadline()` (read when the run starts).
   * Rejects with the error of the pipeline's run, if it failed.
   */
  run(deadline: () => number, readThrough?: string): Promise<void> {
    const run = this.runs.then(async () => {
      const summary = await this.fetcher.run({
        deadline: deadline(),
        ...(this.untilIdle ? { untilIdleMs: WOKEN_RUN_UNTIL_IDLE_MS } : {}),
        ...(readThrough ? { readThrough } : {}),
      });
      this.last = summary;
      const failed = Object.values(summary.pipelines).find((pipeline) => pipeline.error);
      if (failed?.error) throw failed.error;
    });
    this.runs = run.catch(() => undefined);
    return run;
  }

  /**
   * Ends the fetcher's current wait, so that it reads again now; while it is busy reading or sending
   * (no wait under way), its next wait ends at once instead, so that a wake-up is never lost.
   */
  cutSleepsShort(): void {
    this.waits.cut();
  }

  /** Begins a stop: a running fetch ends at once, and no wait holds it. {@link finished} then waits for it. */
  beginStop(): void {
    this.stopping = true;
    this.waits.stop();
  }

  /** Resolves once every queued run has ended. */
  finished(): Promise<void> {
    return this.runs;
  }
}

/**
 * The fixed-rate schedule that runs the fetcher as EventBridge would, first on start: the safety net
 * under wake-ups, or the only driver without them.
 *
 * @example
 * ```ts
 * const schedule = fetcherSchedule(runs, { intervalMs: 60_000, onError: console.error });
 * schedule.start();
 * ```
 */
export function fetcherSchedule(
  runs: LocalFetcherRuns,
  settings: {
    readonly intervalMs: number;
    readonly region?: string;
    readonly onError: (error: unknown) => void;
  },
): FixedRateSchedule {
  return new FixedRateSchedule({
    functionName: 'sluice-fetcher',
    intervalMs: settings.intervalMs,
    functionTimeoutSeconds: Math.ceil(runs.timeoutMs / 1000),
    ...(settings.region ? { region: settings.region } : {}),
    runOnStart: true,
    onError: settings.onError,
    handler: (_event, context) => runs.run(() => Date.now() + context.getRemainingTimeInMillis()),
  });
}
