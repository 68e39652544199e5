import type { Fetcher } from '../fetcher/fetcher';
import type { FetcherRunSummary } from '../fetcher/types';
import type { PipelineStore } from '../state/pipeline-store';
import { announceCompletedBackfills } from './announce';
import type { EmitBackfillCompletedOptions } from './completion';
import { type BackfillRequestedEvent, handleBackfillRequested } from './handler';
import type { BackfillCompletedDetail, RegisteredBackfill } from './types';

/** What {@link runRequestedBackfill} works with. */
export interface RequestedBackfillDependencies {
  readonly store: PipelineStore;
  /** A fetcher whose pipelines include the one backfilled. */
  readonly fetcher: Fetcher;
  /** Where "Backfill Completed" goes; without it, nothing is emitted. */
  readonly completion?: EmitBackfillCompletedOptions;
}

/** What {@link runRequestedBackfill} did. */
export interface RequestedBackfillOutcome {
  readonly backfill: RegisteredBackfill;
  /** The fetcher's run on the backfill alone. */
  readonly run: FetcherRunSummary;
  /** "Backfill Completed" events emitted. */
  readonly emitted: readonly BackfillCompletedDetail[];
  /** Why an emission failed; the scheduled fetcher tries again after its next run. */
  readonly emitFailures: readonly { backfillPipeline: string; error: Error }[];
}

/**
 * The backfill function on AWS: checks a "Backfill Requested" event, registers the bounded historical
 * run it asks for, then starts on it at once, working only that backfill until it has caught up with
 * its stop position or the deadline comes, and emits "Backfill Completed" if it got there. A backfill
 * bigger than one invocation is carried on by the pipeline's scheduled fetcher, which works its
 * pipeline's backfills too and emits the completion when it finishes one.
 *
 * @throws what {@link handleBackfillRequested} throws for a bad event or an unknown pipeline, before
 * anything is registered.
 *
 * @example
 * ```ts
 * export const handler = (event: BackfillRequestedEvent, context: Context) =>
 *   runRequestedBackfill(event, { store, fetcher, completion }, Date.now() + context.getRemainingTimeInMillis() - 5_000);
 * ```
 */
export async function runRequestedBackfill(
  event: BackfillRequestedEvent,
  dependencies: RequestedBackfillDependencies,
  deadline: number,
): Promise<RequestedBackfillOutcome> {
  const { store, fetcher, completion } = dependencies;
  // The pipelines the fetcher is deployed for must exist before a backfill of one can be registered.
  await fetcher.registerPipelines();
  const backfill = await handleBackfillRequested(event, { store });
  const run = await fetcher.run({ deadline, untilCaughtUp: true, only: [backfill.backfillPipeline] });
  const { emitted, failures } = completion
    ? await announceCompletedBackfills(run, store, completion)
    : { emitted: [], failures: [] };
  return { backfill, run, emitted, emitFailures: failures };
}
