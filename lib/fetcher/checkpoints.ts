import { parseBackfillPipelineName } from '../pipeline/backfill-names';
import type { ResolvedPipeline } from '../pipeline/definition';
import { pruneSentAhead, type SentAhead, serializeSentAhead } from '../state/sent-ahead';
import { type Lease, PIPELINE_STATUS } from '../state/types';
import { formatPosition } from '../time/position';
import { type ActivePipeline, type FetcherContext, hook, retry } from './context';
import { currentPlan } from './send-plans';
import { checkpointDue, checkpointUnwritten } from './step-plan';
import {
  emptyCounts,
  FETCHER_STEPS,
  PIPELINE_OUTCOME,
  type PipelineOutcome,
  type PipelineRunSummary,
} from './types';

// A pipeline's lease and checkpoint: taking the lease at the start of a run, writing the checkpoint
// (which renews the lease) and keeping the lease alive while the pipeline idles.

/**
 * Takes a pipeline's lease and starts its run; or, where it cannot be worked (disabled, held by
 * another fetcher, completed earlier, or the lease could not be read), the summary that says why.
 */
export async function beginPipeline(
  context: FetcherContext,
  pipeline: ResolvedPipeline,
  options: { readonly leavesOnceIdle: boolean } = { leavesOnceIdle: false },
): Promise<ActivePipeline | PipelineRunSummary> {
  if (!pipeline.enabled) return skippedSummary(pipeline.name, PIPELINE_OUTCOME.disabled);
  // A run that leaves once idle looks for unread events before it leaves (`hand-over.ts`); a
  // backfill ends at its stopAt instead.
  const looksBeforeLeaving =
    options.leavesOnceIdle &&
    context.source.firstCommittedAfter !== undefined &&
    parseBackfillPipelineName(pipeline.name) === undefined;
  let lease: Lease | undefined;
  try {
    lease = await context.store.acquireLease(pipeline.name, context.owner, context.leaseDurationMs, {
      looksBeforeLeaving,
    });
  } catch (error) {
    context.logger.error('could not take the lease', {
      pipeline: pipeline.name,
      error: (error as Error).message,
    });
    return skippedSummary(pipeline.name, PIPELINE_OUTCOME.failed, { error: error as Error });
  }
  if (!lease) return skippedSummary(pipeline.name, PIPELINE_OUTCOME.locked);
  await hook(context, FETCHER_STEPS.afterLease, pipeline.name);
  if (lease.state.status === PIPELINE_STATUS.completed) {
    await context.store.releaseLease(lease);
    return skippedSummary(pipeline.name, PIPELINE_OUTCOME.alreadyCompleted, {
      position: formatPosition(lease.state.position),
    });
  }
  const run = await context.store.startRun(lease);
  const now = context.clock();
  // A record of another epoch names events a seek has since sent again; a seek clears it anyway.
  const sentAhead = lease.state.sentAhead?.epoch === lease.state.epoch ? lease.state.sentAhead : undefined;
  return {
    pipeline,
    lease,
    run,
    position: lease.state.position,
    written: lease.state.position,
    version: lease.state.version,
    lastWriteAt: now,
    lastMovedAt: now,
    ...(lease.state.stopAt ? { stopAt: lease.state.stopAt } : {}),
    counts: emptyCounts(),
    startedAt: now,
    done: false,
    outcome: PIPELINE_OUTCOME.finished,
    leaseLost: false,
    looksBeforeLeaving,
    // A plan of another epoch names messages a seek has since replaced; a seek clears it anyway.
    ...(lease.state.sendPlan && lease.state.sendPlan.epoch === lease.state.epoch
      ? { storedPlan: lease.state.sendPlan, leftBehind: lease.state.sendPlan }
      : {}),
    ...(sentAhead
      ? {
          sentAhead,
          storedSentAhead: serializeSentAhead(sentAhead),
          ...(sentAhead.plan ? { aheadLeftBehind: true } : {}),
        }
      : {}),
  };
}

/** The summary of a pipeline this run did not work. */
function skippedSummary(
  pipeline: string,
  outcome: PipelineOutcome,
  extra: Partial<PipelineRunSummary> = {},
): PipelineRunSummary {
  return { pipeline, outcome, counts: emptyCounts(), durationMs: 0, ...extra };
}

/** Whether the stored checkpoint lags what this fetcher knows: a position, or a plan's progress. */
export function unwritten(item: ActivePipeline): boolean {
  return (
    checkpointUnwritten({
      position: item.position,
      written: item.written,
      plan: currentPlan(item),
      storedPlan: item.storedPlan,
    }) || sentAheadToWrite(item).serialized !== item.storedSentAhead
  );
}

/** The record of events sent ahead the checkpoint should hold at the pipeline's position. */
function sentAheadToWrite(item: ActivePipeline): { sentAhead?: SentAhead; serialized?: string } {
  const sentAhead = pruneSentAhead(item.sentAhead, item.position);
  return sentAhead ? { sentAhead, serialized: serializeSentAhead(sentAhead) } : {};
}

/** Writes a checkpoint when the lease is half gone, or when one is due on an idle pipeline. */
export async function keepLease(context: FetcherContext, item: ActivePipeline): Promise<void> {
  const due = checkpointDue({
    now: context.clock(),
    leaseExpiresAt: item.lease.expiresAt,
    leaseDurationMs: context.leaseDurationMs,
    lastWriteAt: item.lastWriteAt,
    idleCheckpointIntervalMs: context.idleCheckpointIntervalMs,
    unwritten: unwritten(item),
  });
  if (due) await checkpoint(context, item);
}

/**
 * Writes the pipeline's position and current send plan under its fenced lease, which the write
 * renews.
 */
export async function checkpoint(
  context: FetcherContext,
  item: ActivePipeline,
  status: (typeof PIPELINE_STATUS)[keyof typeof PIPELINE_STATUS] = PIPELINE_STATUS.running,
): Promise<void> {
  await hook(context, FETCHER_STEPS.beforeCheckpoint, item.pipeline.name);
  const { lease, position, version, written } = item;
  const sendPlan = currentPlan(item);
  const { sentAhead, serialized } = sentAheadToWrite(item);
  item.version = await retry(context, 'write the checkpoint', () =>
    context.store.writeCheckpoint(lease, {
      position,
      expectedVersion: version,
      previous: written,
      leaseDurationMs: context.leaseDurationMs,
      status,
      ...(sendPlan ? { sendPlan } : {}),
      ...(sentAhead ? { sentAhead } : {}),
    }),
  );
  item.storedPlan = sendPlan;
  item.sentAhead = sentAhead;
  item.storedSentAhead = serialized;
  const now = context.clock();
  item.lease = { ...item.lease, expiresAt: now + context.leaseDurationMs };
  item.written = item.position;
  item.lastWriteAt = now;
  item.counts.checkpoints += 1;
  await hook(context, FETCHER_STEPS.afterCheckpoint, item.pipeline.name);
}
