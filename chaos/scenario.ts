import type { ChaosEndpoints } from './environment';
import { ChaosPipeline } from './harness';
import { checkInvariants, type InvariantCounts } from './invariants';
import type { ChaosActivity, ChaosPipelineOptions } from './pipeline-options';

/** What every scenario is given. */
export interface ScenarioContext {
  readonly endpoints: ChaosEndpoints;
  readonly seed: number;
  /** The quick set's sizes (CI), rather than the full run's. */
  readonly quick: boolean;
}

/** What a scenario came to. */
export interface ScenarioOutcome {
  readonly counts: InvariantCounts;
  readonly activity: ChaosActivity;
  /** Whether everything committed was handled or dead-lettered before the scenario's time ran out. */
  readonly settled: boolean;
  /** What the scenario did that the counts do not say (crashes made, writers' abandoned commits). */
  readonly notes: Readonly<Record<string, unknown>>;
}

/** One seeded, repeatable fault-injection scenario. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** In the quick set that CI runs. */
  readonly quick: boolean;
  /**
   * Set when the scenario exposes a documented gap that needs a design change: why it is left out of
   * the quick set. Its violations still count in a full run.
   */
  readonly knownGap?: string;
  run(context: ScenarioContext): Promise<ScenarioOutcome>;
}

/** How a pipeline scenario drives its fetchers, and anything else it runs beside the pipeline. */
export interface PipelineDrive {
  /** Starts the scenario's activity; resolves to a function that stops it. */
  start(pipeline: ChaosPipeline): Promise<() => Promise<void>>;
  /** The events to wait for, once the activity has produced them. @default the source stream's events */
  committed?(pipeline: ChaosPipeline): Promise<readonly string[]>;
  /** Extra notes for the report. */
  notes?(): Record<string, unknown>;
}

/**
 * Runs one pipeline scenario: creates the pipeline, starts its worker and dead-letter consumer,
 * starts the scenario's activity, waits until everything committed is handled or dead-lettered (or
 * `timeoutMs` passes), stops everything, reads back what happened, checks the invariants, and drops
 * the pipeline's tables and queues.
 *
 * @example
 * ```ts
 * return runPipelineScenario(context, { prefix: 'poison', history: 300 }, {
 *   start: async (pipeline) => pipeline.runFetcherLoop(),
 * });
 * ```
 */
export async function runPipelineScenario(
  context: ScenarioContext,
  options: Omit<ChaosPipelineOptions, 'endpoints' | 'seed'>,
  drive: PipelineDrive,
  timeoutMs = 180_000,
): Promise<ScenarioOutcome> {
  const pipeline = await ChaosPipeline.create({
    ...options,
    endpoints: context.endpoints,
    seed: context.seed,
  });
  try {
    await pipeline.start();
    const stopActivity = await drive.start(pipeline);
    let settled = false;
    let committed: readonly string[] = [];
    try {
      committed = drive.committed ? await drive.committed(pipeline) : await pipeline.committedIds();
      settled = await pipeline.waitUntilSettled(committed, timeoutMs);
    } finally {
      await stopActivity();
      await pipeline.stop();
    }
    const observed = await pipeline.observations(committed);
    const counts = checkInvariants(observed);
    const whereLost =
      counts.lostSample.length > 0 ? { whereLost: await pipeline.whereAre(counts.lostSample) } : {};
    const activity = pipeline.activity();
    const notes = {
      ...drive.notes?.(),
      fetcherOwners: await pipeline.fetcherOwners(),
      fetcherStopReasons: activity.fetcherStopReasons,
      eventsSentAhead: activity.eventsSentAhead,
      ...(activity.fetcherLeasesLost > 0 ? { fetcherLeasesLost: activity.fetcherLeasesLost } : {}),
      ...(activity.workerTimeouts > 0 ? { workerTimeouts: activity.workerTimeouts } : {}),
      ...(counts.lostSample.length > 0
        ? { lostEvents: counts.lostSample.map((id) => pipeline.describeEvent(id)) }
        : {}),
      ...whereLost,
      ...(counts.lostSample.length > 0
        ? { checkpointsRead: observed.checkpoints.map((checkpoint) => checkpoint.position) }
        : {}),
    };
    return { counts, activity, settled, notes };
  } finally {
    await pipeline.drop();
  }
}
