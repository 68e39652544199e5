import { parsePosition } from '../lib';
import { comparePositions } from '../lib/time/position';

/** A checkpoint as a watcher read it. */
export interface ObservedCheckpoint {
  readonly version: number;
  /** The position, formatted. */
  readonly position: string;
}

/** What a scenario saw, for {@link checkInvariants}. */
export interface Observations {
  /** Every event of the source stream, read back from the log once the scenario ended. */
  readonly committed: readonly string[];
  /** The source event of every effect committed through the worker (with the marker), repeats kept. */
  readonly effects: readonly string[];
  /**
   * Every failure whose failed-handler effect was committed (through `context.commit`, with the
   * failure's mark), repeats kept.
   */
  readonly handedOver: readonly string[];
  /** Every failure the failed handler was called with, repeats kept (raw, outside any commit). */
  readonly failedHandlerCalls?: readonly string[];
  /** How many times the handler ran to success per event (raw, outside any idempotency). */
  readonly handlerSuccesses: ReadonlyMap<string, number>;
  /** Checkpoints in the order they were read. */
  readonly checkpoints: readonly ObservedCheckpoint[];
}

/** The invariants of DESIGN.md, counted; and what is reported beside them. */
export interface InvariantCounts {
  readonly eventsCommitted: number;
  /** Committed events neither delivered (an effect committed) nor given to the failed handler. */
  readonly lost: number;
  /** Effects committed more than once: the extra ones. */
  readonly doubleEffects: number;
  /** Times a checkpoint was read behind the one read before it (no seeks run in a scenario). */
  readonly checkpointRegressions: number;
  /** Failed-handler effects committed more than once: the extra hand-overs. */
  readonly failedHandlerDuplicates: number;
  /**
   * Reported, not an invariant: calls of the failed handler beyond the first for a failure (a crash
   * after it returned, before its mark). What they committed did not land twice.
   */
  readonly failedHandlerReruns: number;
  /** Reported, not an invariant: events with a committed effect. */
  readonly delivered: number;
  /** Reported, not an invariant: events given to the failed handler. */
  readonly deadLettered: number;
  /**
   * Reported, not an invariant: runs of the handler beyond the first success of an event (a crash or a
   * timeout after the handler, two deliveries at once). Their effects were not committed twice.
   */
  readonly handlerReruns: number;
  /** A few of the lost events, to start looking from. */
  readonly lostSample: readonly string[];
}

/**
 * Counts what the invariants forbid in one scenario's observations: lost events, effects committed
 * twice, checkpoint regressions, and events given to the failed handler twice.
 *
 * @example
 * ```ts
 * const counts = checkInvariants({ committed, effects, handedOver, handlerSuccesses, checkpoints });
 * if (counts.lost > 0) console.log(counts.lostSample);
 * ```
 */
export function checkInvariants(observations: Observations): InvariantCounts {
  const effectCounts = tally(observations.effects);
  const handOverCounts = tally(observations.handedOver);
  const lost = observations.committed.filter((id) => !effectCounts.has(id) && !handOverCounts.has(id));
  let handlerReruns = 0;
  for (const runs of observations.handlerSuccesses.values()) handlerReruns += Math.max(0, runs - 1);
  return {
    eventsCommitted: observations.committed.length,
    lost: lost.length,
    doubleEffects: extras(effectCounts),
    checkpointRegressions: regressions(observations.checkpoints),
    failedHandlerDuplicates: extras(handOverCounts),
    delivered: effectCounts.size,
    deadLettered: handOverCounts.size,
    handlerReruns,
    failedHandlerReruns: extras(tally(observations.failedHandlerCalls ?? [])),
    lostSample: lost.slice(0, 5),
  };
}

/** The number of violations in `counts`: what makes a run fail. */
export function violationsOf(
  counts: Pick<
    InvariantCounts,
    'lost' | 'doubleEffects' | 'checkpointRegressions' | 'failedHandlerDuplicates'
  >,
): number {
  return counts.lost + counts.doubleEffects + counts.checkpointRegressions + counts.failedHandlerDuplicates;
}

function tally(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

function extras(counts: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const count of counts.values()) sum += count - 1;
  return sum;
}

function regressions(checkpoints: readonly ObservedCheckpoint[]): number {
  let count = 0;
  for (let index = 1; index < checkpoints.length; index += 1) {
    const previous = checkpoints[index - 1] as ObservedCheckpoint;
    const current = checkpoints[index] as ObservedCheckpoint;
    const backwards = comparePositions(parsePosition(current.position), parsePosition(previous.position)) < 0;
    if (backwards || current.version < previous.version) count += 1;
  }
  return count;
}
