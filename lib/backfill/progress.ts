import { MissingResourceError } from '../errors';
import type { EventLog } from '../event-log/event-log';
import { parseBackfillPipelineName } from '../pipeline/backfill-names';
import { startPosition } from '../pipeline/definition';
import type { PipelineStore } from '../state/pipeline-store';
import { PIPELINE_STATUS } from '../state/types';
import { BEFORE_EVERY_EVENT, lastDeliveredBound, type Position, positionTimeMs } from '../time/position';
import type { BackfillProgress } from './types';

/** Options of {@link backfillProgress}. */
export interface BackfillProgressOptions {
  /** Count the events of the range (`eventsTotal`): one COUNT query per shard of each hour. @default true */
  readonly countEvents?: boolean;
  /** @default Date.now */
  readonly clock?: () => number;
}

/** How many run records are read to add up the events sent. */
const RUNS_READ = 100;

/**
 * How far a backfill has got: its status, its position between `from` and `stopAt`, the fraction of
 * that time covered, the events of the range and those sent so far, and the time left at the rate
 * since its first fetcher run.
 *
 * @throws `MissingResourceError` with resource `pipeline` when no backfill pipeline of that name is registered.
 *
 * @example
 * ```ts
 * const { status, fraction, etaMs } = await backfillProgress(store, eventLog, 'billing.backfill.3f9a1c2e');
 * ```
 */
export async function backfillProgress(
  store: PipelineStore,
  eventLog: Pick<EventLog, 'count' | 'get'> | undefined,
  backfillPipeline: string,
  options: BackfillProgressOptions = {},
): Promise<BackfillProgress> {
  const names = parseBackfillPipelineName(backfillPipeline);
  const [definition, state, runs] = await Promise.all([
    store.getPipeline(backfillPipeline),
    store.getState(backfillPipeline),
    store.listRuns(backfillPipeline, RUNS_READ),
  ]);
  if (!names || !definition || !state || !definition.stopAt)
    throw new MissingResourceError('pipeline', backfillPipeline);
  const from = startPosition(definition.start, 0);
  const stopAt = definition.stopAt;
  const completed = state.status === PIPELINE_STATUS.completed;
  const fraction = completed ? 1 : timeFraction(from, state.position, stopAt);
  const eventsSent = runs.reduce((sum, run) => sum + (run.counts?.eventsSent ?? 0), 0);
  const startedAt = runs.length > 0 ? Math.min(...runs.map((run) => run.startedAt)) : undefined;
  const now = (options.clock ?? Date.now)();
  const etaMs = completed
    ? 0
    : startedAt !== undefined && fraction > 0 && fraction < 1
      ? Math.round(((now - startedAt) * (1 - fraction)) / fraction)
      : undefined;
  const eventsTotal =
    eventLog && (options.countEvents ?? true)
      ? await countRange(eventLog, definition.stream, definition.eventTypes, from, stopAt)
      : undefined;
  return {
    backfillPipeline,
    pipeline: names.pipeline,
    backfillId: names.backfillId,
    status: state.status,
    from,
    position: state.position,
    stopAt,
    fraction,
    ...(eventsTotal === undefined ? {} : { eventsTotal }),
    eventsSent,
    // A run that died never ends: past a Lambda's longest life (15 minutes) it is not waited for.
    runsInProgress: runs.filter((run) => run.endedAt === undefined && now - run.startedAt < 15 * 60_000)
      .length,
    ...(startedAt === undefined ? {} : { startedAt }),
    ...(etaMs === undefined ? {} : { etaMs }),
  };
}

/** The share of the time from `from` to `stopAt` that `position` has covered, from 0 to 1. */
function timeFraction(from: Position, position: Position, stopAt: Position): number {
  const start = positionTimeMs(from);
  const span = positionTimeMs(stopAt) - start;
  if (span <= 0) return 1;
  return Math.min(1, Math.max(0, (positionTimeMs(position) - start) / span));
}

/** The events after `from` and up to `stopAt`'s bound: exactly those the backfill delivers. */
async function countRange(
  eventLog: Pick<EventLog, 'count' | 'get'>,
  stream: string,
  types: readonly string[] | undefined,
  from: Position,
  stopAt: Position,
): Promise<number> {
  const low = lastDeliveredBound(from);
  const high = lastDeliveredBound(stopAt);
  if (high === BEFORE_EVERY_EVENT || low >= high) return 0;
  const typeFilter = types ? { types } : {};
  const total = await eventLog.count(stream, {
    ...(low === BEFORE_EVERY_EVENT ? {} : { from: low }),
    to: high,
    ...typeFilter,
  });
  if (low === BEFORE_EVERY_EVENT) return total;
  // `from` is delivered already: take it out when it names a stored event the count included.
  const atLow = await eventLog.get(stream, low);
  return atLow && (!types || types.includes(atLow.type)) ? total - 1 : total;
}
