import type { SendPlan } from '../state/types';
import {
  comparePositions,
  isDeliveredAt,
  type Position,
  positionAfterEvent,
  positionAtTime,
} from '../time/position';

// What a fetcher's step decides, without calling anything: where a pipeline's position moves after a
// page or a plan, whether its checkpoint lags and is due, and whether the run is done with it. The
// fetcher reads the clock, the log and the queue, and carries the decisions out.

/** How a run decides that a pipeline is done before its deadline (see `FetcherRunOptions`). */
export interface StepMode {
  readonly untilCaughtUp: boolean;
  readonly untilIdleMs?: number;
  readonly readThrough?: string;
}

/** How far past a woken run's start its horizon must be when it was not told which id to read through. */
export const WRITER_ID_LEAD_MS = 1_000;

/**
 * Whether a pipeline has reached its `stopAt`: its read caught up (with the settled horizon or with
 * `stopAt` itself) and its position is at `stopAt` or past it. A pipeline without one never has.
 *
 * @example
 * ```ts
 * if (reachedStopAt(caughtUp, item.position, item.stopAt)) await complete(item);
 * ```
 */
export function reachedStopAt(caughtUp: boolean, position: Position, stopAt: Position | undefined): boolean {
  return caughtUp && stopAt !== undefined && comparePositions(position, stopAt) >= 0;
}

/**
 * Whether a woken run has read every commit made before it woke: past `readThrough` (the newest id
 * the waker saw) wherever the writer's clock put it, or without one, to `WRITER_ID_LEAD_MS` past the
 * run's start.
 *
 * @example
 * ```ts
 * readThroughWake(item.position, item.startedAt, mode.readThrough);
 * ```
 */
export function readThroughWake(
  position: Position,
  startedAt: number,
  readThrough: string | undefined,
): boolean {
  return readThrough === undefined
    ? comparePositions(position, positionAtTime(startedAt + WRITER_ID_LEAD_MS)) >= 0
    : isDeliveredAt(position, readThrough);
}

/** A caught-up pipeline of a woken run, as `idleAfterWake` weighs it. */
export interface WokenPipeline {
  /** Milliseconds since the run last read events of the pipeline (or began it). */
  readonly idleForMs: number;
  readonly position: Position;
  /** When the run began the pipeline, epoch ms. */
  readonly startedAt: number;
}

/**
 * Whether a woken run that caught up leaves the pipeline: it read nothing for `untilIdleMs` (or
 * longer), and it has read through what woke it (`readThroughWake`).
 *
 * @example
 * ```ts
 * idleAfterWake({ idleForMs: now - item.lastMovedAt, position, startedAt }, { untilIdleMs: 2_000 });
 * ```
 */
export function idleAfterWake(
  pipeline: WokenPipeline,
  mode: { readonly untilIdleMs: number; readonly readThrough?: string },
): boolean {
  return (
    pipeline.idleForMs >= mode.untilIdleMs &&
    readThroughWake(pipeline.position, pipeline.startedAt, mode.readThrough)
  );
}

/** What a read that found no events for the pipeline leaves. */
export interface EmptyPageMove {
  /** Where the pipeline stands now: where the read stopped. */
  readonly position: Position;
  /**
   * The read stopped at its bounds, short of the horizon, among events of other types: the step ends
   * there and the next one reads on.
   */
  readonly readOn: boolean;
  /**
   * With `readOn`: the position is past the checkpoint, which is written now, so that a long run of
   * other types is crossed in steps that survive the end of the run.
   */
  readonly checkpoint: boolean;
}

/**
 * Where a pipeline moves after a read that found none of its events, and whether that is saved now.
 *
 * @example
 * ```ts
 * const move = afterEmptyPage(page, item.written);
 * item.position = move.position;
 * ```
 */
export function afterEmptyPage(
  page: { readonly position: Position; readonly caughtUp: boolean },
  written: Position,
): EmptyPageMove {
  const readOn = !page.caughtUp;
  return {
    position: page.position,
    readOn,
    checkpoint: readOn && comparePositions(page.position, written) > 0,
  };
}

/**
 * The send plan the checkpoint should hold: the pending plan with how many of its messages SQS has
 * accepted, or none between pages.
 *
 * @example
 * ```ts
 * currentPlanOf(item.pending); // { ...plan, sent: 3 }
 * ```
 */
export function currentPlanOf(
  pending: { readonly plan: SendPlan; readonly next: number } | undefined,
): SendPlan | undefined {
  return pending ? { ...pending.plan, sent: pending.next } : undefined;
}

/** What the fetcher knows of a pipeline against what its stored checkpoint holds. */
export interface CheckpointState {
  readonly position: Position;
  readonly written: Position;
  /** The plan the checkpoint should hold now (`currentPlanOf`). */
  readonly plan: SendPlan | undefined;
  /** The plan it holds, as last written or read. */
  readonly storedPlan: SendPlan | undefined;
}

/**
 * Whether the stored checkpoint lags what the fetcher knows: the position moved past it, or the
 * plan (or how far its messages went) differs from the stored one.
 *
 * @example
 * ```ts
 * if (checkpointUnwritten({ position, written, plan: currentPlanOf(pending), storedPlan })) await write();
 * ```
 */
export function checkpointUnwritten(state: CheckpointState): boolean {
  return (
    comparePositions(state.position, state.written) > 0 ||
    JSON.stringify(state.plan) !== JSON.stringify(state.storedPlan)
  );
}

/** When a pipeline's lease and checkpoint were last renewed, as `checkpointDue` weighs them. */
export interface LeaseTiming {
  readonly now: number;
  readonly leaseExpiresAt: number;
  readonly leaseDurationMs: number;
  readonly lastWriteAt: number;
  readonly idleCheckpointIntervalMs: number;
  /** Whether the checkpoint lags (`checkpointUnwritten`). */
  readonly unwritten: boolean;
}

/**
 * Whether a step that wrote nothing else writes the checkpoint: the lease has less than half its
 * duration left (the write renews it), or the idle checkpoint interval has passed since the last
 * write and the checkpoint lags.
 *
 * @example
 * ```ts
 * if (checkpointDue({ now, leaseExpiresAt, leaseDurationMs, lastWriteAt, idleCheckpointIntervalMs, unwritten })) await write();
 * ```
 */
export function checkpointDue(timing: LeaseTiming): boolean {
  const leaseHalfGone = timing.leaseExpiresAt - timing.now < timing.leaseDurationMs / 2;
  return (
    leaseHalfGone || (timing.now - timing.lastWriteAt >= timing.idleCheckpointIntervalMs && timing.unwritten)
  );
}

/**
 * Whether the reads of a plan left behind have covered it: the last read caught up, or reached just
 * past the plan's last event.
 *
 * @example
 * ```ts
 * if (replayReadDone(page, plan.through)) break;
 * ```
 */
export function replayReadDone(
  page: { readonly position: Position; readonly caughtUp: boolean },
  through: string,
): boolean {
  return page.caughtUp || comparePositions(page.position, positionAfterEvent(through)) >= 0;
}

/**
 * Where the checkpoint moves once a replayed plan is sent: just past its last event, or where its
 * reads stopped if that is sooner.
 *
 * @example
 * ```ts
 * replayEnd(readTo, plan.through);
 * ```
 */
export function replayEnd(readTo: Position, through: string): Position {
  const until = positionAfterEvent(through);
  return comparePositions(readTo, until) < 0 ? readTo : until;
}
