import { ConflictError, LeaseLostError } from '../errors';
import type { RunRecord } from '../state/types';
import { formatPosition, positionTimeMs } from '../time/position';
import { checkpoint, unwritten } from './checkpoints';
import { type ActivePipeline, type FetcherContext, hook, SimulatedCrash } from './context';
import { lookBeforeLeaving } from './hand-over';
import {
  FETCHER_STEPS,
  type FetcherMetrics,
  PIPELINE_OUTCOME,
  type PipelineOutcome,
  type PipelineRunSummary,
} from './types';

// How a pipeline's work in a run ends: stopped or failed during a step, then finished at the end of
// the run (the last checkpoint, the lease released, the run recorded and notified), and summed up.

/** Ends the pipeline's work in this run, for `reason`. */
export function stop(item: ActivePipeline, reason: string): void {
  item.done = true;
  item.stopReason = reason;
}

/**
 * Ends the pipeline's work in this run on an error. A lost lease, or a checkpoint a seek moved, is
 * no failure of the pipeline: another fetcher, or the seek, has it now.
 */
export function fail(context: FetcherContext, item: ActivePipeline, error: Error): void {
  item.done = true;
  item.error = error;
  item.outcome = PIPELINE_OUTCOME.failed;
  const checkpointMoved = error instanceof ConflictError && error.kind === 'checkpoint-moved';
  if (error instanceof LeaseLostError || checkpointMoved) {
    item.leaseLost = true;
    item.stopReason = checkpointMoved ? 'checkpoint moved by a seek' : 'lease lost';
    item.outcome = PIPELINE_OUTCOME.finished;
    item.error = undefined;
  } else {
    item.stopReason = `error: ${error.name}`;
  }
  const log = item.leaseLost ? context.logger.warn : context.logger.error;
  log.call(context.logger, 'pipeline stopped', {
    pipeline: item.pipeline.name,
    reason: item.stopReason,
    error: error.message,
  });
}

/**
 * At the end of a run: writes what the checkpoint lags, releases the lease, records the end of the
 * run and tells the notifier. Resolves to the pipeline's summary.
 */
export async function finish(context: FetcherContext, item: ActivePipeline): Promise<PipelineRunSummary> {
  const name = item.pipeline.name;
  if (!item.leaseLost && unwritten(item)) {
    try {
      await checkpoint(context, item);
    } catch (error) {
      if (error instanceof SimulatedCrash) throw error;
      fail(context, item, error as Error);
    }
  }
  if (!item.leaseLost && !item.released) {
    const pending = await lookBeforeLeaving(context, item).catch((error: unknown) => {
      if (error instanceof SimulatedCrash) throw error;
      return undefined;
    });
    await hook(context, FETCHER_STEPS.beforeRelease, name);
    await context.store.releaseLease(item.lease).catch(() => undefined);
    // Not after a failure: a run that fails at once would hand over to another that fails at once.
    if (pending !== undefined && item.outcome !== PIPELINE_OUTCOME.failed)
      await handOff(context, item, pending);
  }
  if (!item.done && !item.waitingForRoom) item.stopReason = 'time budget ended';
  const ended = await context.store
    .endRun(item.run, {
      counts: item.counts,
      ...(item.stopReason ? { stopReason: item.stopReason } : {}),
      endPosition: item.written,
      ...(item.error ? { error: item.error } : {}),
      ...(item.expired ? { expired: item.expired } : {}),
    })
    .catch((error: unknown) => {
      context.logger.error('could not record the end of the run', {
        pipeline: name,
        error: (error as Error).message,
      });
      return undefined;
    });
  if (ended) await notify(context, ended);
  const summary: PipelineRunSummary = {
    pipeline: name,
    outcome: item.outcome,
    counts: item.counts,
    ...(item.stopReason ? { stopReason: item.stopReason } : {}),
    ...(item.error ? { error: item.error } : {}),
    ...(item.expired
      ? { expired: { from: formatPosition(item.expired.from), to: formatPosition(item.expired.to) } }
      : {}),
    ...(item.handedOff ? { handedOffThrough: item.handedOff } : {}),
    lagMs: Math.max(0, context.clock() - positionTimeMs(item.written)),
    position: formatPosition(item.written),
    durationMs: context.clock() - item.startedAt,
  };
  context.logger.info('pipeline run ended', { ...summary, error: summary.error?.message });
  return summary;
}

/**
 * A run that must end (its deadline) with events committed past its position, which a run woken for
 * them may have left to it, starts another run for them; without `handOff`, they wait for the next
 * wake-up or scheduled run.
 */
async function handOff(context: FetcherContext, item: ActivePipeline, pending: string): Promise<void> {
  const pipeline = item.pipeline.name;
  if (!context.handOff) {
    context.logger.warn('leaving events still to read to the next wake-up or scheduled run', {
      pipeline,
      pending,
    });
    return;
  }
  try {
    await context.handOff(pipeline, pending);
    item.handedOff = pending;
  } catch (error) {
    context.logger.error('could not start a run for the events still to read; the schedule will', {
      pipeline,
      pending,
      error: (error as Error).message,
    });
  }
}

/** Tells the notifier how a run ended; a notifier that fails is logged, never rethrown. */
async function notify(context: FetcherContext, run: RunRecord): Promise<void> {
  try {
    if (run.status === 'failed') await context.notifier?.onRunFailed?.(run);
    else await context.notifier?.onRunFinished?.(run);
  } catch (error) {
    context.logger.warn('the run notifier failed', {
      pipeline: run.pipeline,
      error: (error as Error).message,
    });
  }
}

/**
 * Hands the metrics every pipeline this fetcher tried, including those that failed before it got a
 * lease; not the ones another fetcher holds, which that fetcher reports, nor those it had no work for.
 */
export function recordPipelineRuns(
  metrics: FetcherMetrics | undefined,
  summaries: Readonly<Record<string, PipelineRunSummary>>,
): void {
  const silent: readonly PipelineOutcome[] = [
    PIPELINE_OUTCOME.locked,
    PIPELINE_OUTCOME.disabled,
    PIPELINE_OUTCOME.alreadyCompleted,
  ];
  for (const summary of Object.values(summaries))
    if (!silent.includes(summary.outcome)) metrics?.recordPipelineRun(summary);
}
