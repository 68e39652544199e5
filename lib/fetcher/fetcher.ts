import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_READ_MAX_BYTES } from '../event-log/constants';
import type { EventSource } from '../event-log/event-source';
import { parseBackfillPipelineName } from '../pipeline/backfill-names';
import { type PipelineDefinition, type ResolvedPipeline, resolvePipeline } from '../pipeline/definition';
import { FETCHER_SETTINGS } from '../settings/fetcher-settings';
import { createSqsClient } from '../sqs/client';
import { LOCKED_LEASE_ACTION, lockedLeaseAction } from '../state/lease-hand-over';
import type { PipelineStore } from '../state/pipeline-store';
import { beginPipeline } from './checkpoints';
import { type ActivePipeline, type FetcherContext, retry, SimulatedCrash } from './context';
import { checkFetcherOptions, checkRunOptions } from './options';
import { finish, recordPipelineRuns } from './run-end';
import { step } from './step';
import type { StepMode } from './step-plan';
import {
  emptyCounts,
  type FetcherLogger,
  type FetcherMetrics,
  type FetcherRunSummary,
  type FetcherStepHook,
  PIPELINE_OUTCOME,
  type PipelineRunSummary,
  type RunNotifier,
} from './types';

/** Options of a {@link Fetcher}. */
export interface FetcherOptions {
  /** Pipelines, checkpoints, leases and runs. */
  readonly store: PipelineStore;
  /** Where events are read from: usually the `EventLog`. */
  readonly source: EventSource;
  /** @default a new SQSClient from the environment */
  readonly sqs?: SQSClient;
  /** This fetcher's name in leases and runs. @default `fetcher-<random uuid>` */
  readonly owner?: string;
  /**
   * How long a lease lasts without renewal. Every checkpoint write renews it; an idle fetcher renews
   * it when half is left. Another fetcher can take the pipeline over once it has expired.
   * @default 60000
   */
  readonly leaseDurationMs?: number;
  /** How long to wait between reads of the live edge once every pipeline has caught up. @default 1000 */
  readonly pollIntervalMs?: number;
  /** How often an idle pipeline's checkpoint follows the settled horizon. @default 30000 */
  readonly idleCheckpointIntervalMs?: number;
  /** Time left at the end of a run for the final checkpoints and lease releases. @default 3000 */
  readonly finalizeReserveMs?: number;
  /**
   * The most stored bytes of events one page read from the log holds (a page always holds at least
   * one event): what bounds the fetcher's memory, since events may be up to 400 KB each.
   * @default 4194304 (4 MiB)
   */
  readonly maxPageBytes?: number;
  /** Only these pipelines, and their backfills. @default every registered pipeline */
  readonly pipelines?: readonly string[];
  /**
   * Definitions put into the store (`putPipeline`) before the first run: a deployed fetcher registers
   * the pipelines it is deployed for. A registered pipeline keeps its checkpoint. @default none
   */
  readonly register?: readonly PipelineDefinition[];
  readonly logger?: FetcherLogger;
  readonly metrics?: FetcherMetrics;
  readonly notifier?: RunNotifier;
  /** Named crash points for tests; see {@link FetcherStepHook}. */
  readonly onStep?: FetcherStepHook;
  /**
   * Starts another run for `pipeline`, to read through `readThrough`: called when a run that leaves
   * once idle reaches its deadline while events it has not read are committed past its position,
   * which a run woken for them may have left to it (never after a failure). The fetcher Lambda
   * invokes itself asynchronously. Without it, those events wait for the next wake-up or scheduled
   * run.
   */
  readonly handOff?: (pipeline: string, readThrough: string) => Promise<void>;
  /** @default Date.now */
  readonly clock?: () => number;
  /** @default a setTimeout promise */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** How long one `run()` may take. */
export interface FetcherRunOptions {
  /** The epoch-ms time by which `run()` returns (a Lambda's deadline minus a margin). */
  readonly deadline?: number;
  /** Or a budget from now, in milliseconds. */
  readonly budgetMs?: number;
  /**
   * Return as soon as every pipeline has caught up with the settled horizon, rather than tailing the
   * live edge until the deadline: for backfills, scripts and tests.
   * @default false
   */
  readonly untilCaughtUp?: boolean;
  /**
   * Return once every pipeline has caught up with a settled horizon past the run's start (so the run
   * has read every commit made before it began, the ones that woke it among them) and read no event
   * for this long, rather than tailing the live edge until the deadline: a run woken by a commit. With it, a pipeline whose lease another fetcher holds is waited for
   * (polled until the deadline) rather than skipped, since that fetcher may be about to leave.
   * @default tail until the deadline
   */
  readonly untilIdleMs?: number;
  /**
   * With `untilIdleMs`: the newest event id the waker saw committed. The run leaves only once it has
   * read past it, wherever the writer's clock put the id. Without it, the run reads until its settled
   * horizon has passed its start by a second (how far a writer's ids may lead this machine's clock
   * when both are held to DynamoDB's, whose `Date` header counts whole seconds).
   */
  readonly readThrough?: string;
  /** Work only these of the fetcher's pipelines in this run (a backfill function's own). @default all */
  readonly only?: readonly string[];
}

const { leaseDurationMs: LEASE, pollIntervalMs: POLL } = FETCHER_SETTINGS;

const NOOP_LOGGER: FetcherLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The pump: reads each pipeline's next events from the event log and sends them to its queue, then
 * records how far it got. Never skips an event (the checkpoint moves only past events whose messages
 * SQS accepted), never lets two fetchers work one pipeline at once (fenced leases), never floods a
 * slow worker (it pauses at `bufferSize` messages in the queue), and keeps tailing the live edge
 * until its time budget ends. One fetcher serves many pipelines, one page each in turn.
 *
 * @example
 * ```ts
 * const fetcher = new Fetcher({ store, source: eventLog, sqs });
 * const summary = await fetcher.run({ deadline: Date.now() + context.getRemainingTimeInMillis() - 5_000 });
 * ```
 */
export class Fetcher {
  readonly owner: string;
  /** What the fetcher's modules share: settings, clients, logger, clock. */
  private readonly context: FetcherContext;
  private readonly pollIntervalMs: number;
  private readonly finalizeReserveMs: number;
  private readonly only?: ReadonlySet<string>;
  private readonly register: readonly PipelineDefinition[];
  private registered = false;
  private readonly metrics?: FetcherMetrics;

  constructor(options: FetcherOptions) {
    checkFetcherOptions(options);
    this.owner = options.owner ?? `fetcher-${randomUUID()}`;
    this.pollIntervalMs = options.pollIntervalMs ?? POLL.default;
    this.finalizeReserveMs = options.finalizeReserveMs ?? 3_000;
    if (options.pipelines) this.only = new Set(options.pipelines);
    this.register = options.register ?? [];
    for (const definition of this.register) resolvePipeline(definition);
    if (options.metrics) this.metrics = options.metrics;
    this.context = {
      owner: this.owner,
      store: options.store,
      source: options.source,
      sqs: options.sqs ?? createSqsClient(),
      leaseDurationMs: options.leaseDurationMs ?? LEASE.default,
      idleCheckpointIntervalMs: options.idleCheckpointIntervalMs ?? 30_000,
      maxPageBytes: options.maxPageBytes ?? DEFAULT_READ_MAX_BYTES,
      logger: options.logger ?? NOOP_LOGGER,
      ...(options.notifier ? { notifier: options.notifier } : {}),
      ...(options.onStep ? { onStep: options.onStep } : {}),
      ...(options.handOff ? { handOff: options.handOff } : {}),
      clock: options.clock ?? Date.now,
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    };
  }

  /**
   * Works every enabled pipeline until the deadline: takes their leases, pumps their events, tails
   * the live edge, then saves checkpoints and releases the leases. Errors of one pipeline are recorded
   * in its run and summary; the others carry on.
   *
   * @example
   * ```ts
   * const { pipelines } = await fetcher.run({ budgetMs: 50_000 });
   * ```
   */
  async run(options: FetcherRunOptions = {}): Promise<FetcherRunSummary> {
    checkRunOptions(options);
    const { clock, logger, sleep } = this.context;
    const startedAt = clock();
    const deadline = options.deadline ?? startedAt + (options.budgetMs ?? 50_000);
    const stopWorkingAt = deadline - this.finalizeReserveMs;
    await this.registerPipelines();
    const { pipelines, invalid } = await this.context.store.listPipelines();
    const inRun = (name: string) => this.isChosen(name) && (!options.only || options.only.includes(name));
    const summaries: Record<string, PipelineRunSummary> = {};
    for (const { name, error } of invalid) {
      if (!inRun(name)) continue;
      logger.error('pipeline definition is invalid; skipped', { pipeline: name, error: error.message });
      summaries[name] = {
        pipeline: name,
        outcome: PIPELINE_OUTCOME.failed,
        error,
        counts: emptyCounts(),
        durationMs: 0,
      };
    }

    const active: ActivePipeline[] = [];
    const chosen = pipelines.filter((pipeline) => inRun(pipeline.name));
    const mode: StepMode = {
      untilCaughtUp: options.untilCaughtUp ?? false,
      ...(options.untilIdleMs === undefined ? {} : { untilIdleMs: options.untilIdleMs }),
      ...(options.readThrough === undefined ? {} : { readThrough: options.readThrough }),
    };
    // A woken run that finds a lease held leaves its events to the holder, which looks for them before
    // it leaves; it waits for a holder that is already leaving (see `hand-over.ts`).
    const woken = mode.untilIdleMs !== undefined;
    let waiting: ResolvedPipeline[] = [];
    const begin = async (candidates: readonly ResolvedPipeline[]) => {
      const stillLocked: ResolvedPipeline[] = [];
      await Promise.all(
        candidates.map(async (pipeline) => {
          const started = await beginPipeline(this.context, pipeline, { leavesOnceIdle: woken });
          if ('lease' in started) {
            if (mode.readThrough !== undefined) started.readThrough = mode.readThrough;
            active.push(started);
            delete summaries[pipeline.name];
            return;
          }
          summaries[pipeline.name] = started;
          if (!woken || started.outcome !== PIPELINE_OUTCOME.locked) return;
          const action = lockedLeaseAction(
            await retry(this.context, 'read the lease', () => this.context.store.getState(pipeline.name)),
            clock(),
          );
          if (action === LOCKED_LEASE_ACTION.handOver)
            summaries[pipeline.name] = { ...started, stopReason: 'left to the fetcher holding the lease' };
          else stillLocked.push(pipeline);
        }),
      );
      waiting = stillLocked;
    };
    await begin(chosen);

    try {
      while ((waiting.length > 0 || active.some((item) => !item.done)) && clock() < stopWorkingAt) {
        let progressed = false;
        for (const item of active) {
          if (item.done || clock() >= stopWorkingAt) continue;
          progressed = (await step(this.context, item, mode)) || progressed;
        }
        if (waiting.length > 0) await begin(waiting);
        if (!progressed && (waiting.length > 0 || active.some((item) => !item.done))) {
          await sleep(Math.max(0, Math.min(this.pollIntervalMs, stopWorkingAt - clock())));
        }
      }
      for (const item of active) summaries[item.pipeline.name] = await finish(this.context, item);
    } catch (error) {
      if (error instanceof SimulatedCrash) throw error.cause;
      throw error;
    }
    recordPipelineRuns(this.metrics, summaries);
    return { pipelines: summaries, durationMs: clock() - startedAt };
  }

  /**
   * Puts the `register` option's definitions into the store, once per fetcher; `run()` calls it
   * first. Call it sooner where something needs the pipelines before a run (a backfill request).
   *
   * @example
   * ```ts
   * await fetcher.registerPipelines();
   * ```
   */
  async registerPipelines(): Promise<void> {
    if (this.registered) return;
    for (const definition of this.register)
      await retry(this.context, 'register pipeline', () => this.context.store.putPipeline(definition));
    this.registered = true;
  }

  /** Whether the `pipelines` option takes in this pipeline: one it lists, or a backfill of one. */
  private isChosen(name: string): boolean {
    if (!this.only || this.only.has(name)) return true;
    const backfill = parseBackfillPipelineName(name);
    return backfill !== undefined && this.only.has(backfill.pipeline);
  }
}
