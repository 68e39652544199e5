import { comparePositions, parsePosition, positionAfterEvent } from '../lib/time/position';

/** A checkpoint as a watcher read it. */
export interface ObservedCheckpoint {
  readonly version: number;
  /** The position, formatted. */
  readonly position: string;
  /** Set on the first checkpoint read after an explicit seek: it may stand behind the one before it. */
  readonly afterSeek?: boolean;
}

/** One call of the failed handler for one event: what it was told. */
export interface ObservedHandOver {
  readonly id: string;
  readonly attempts: number;
  /** The last error's message as the failed handler received it. */
  readonly lastError: string;
}

/**
 * What the handler did with one event, counted outside Sluice (raw runs). A run in an invocation that
 * crashed or timed out may never be recorded by the worker (it died before it could): what the
 * failed handler is told must lie between the runs whose invocation returned and all the runs.
 */
export interface HandlerFailures {
  /** Runs of the handler for the event that threw. */
  readonly count: number;
  /** Of those, the runs in invocations that returned their response (the worker could record them). */
  readonly settled?: number;
  /** The message of the last error it threw. */
  readonly lastError: string;
  /** The message of the last error it threw in an invocation that returned. */
  readonly lastSettledError?: string;
}

/** What a scenario saw, for {@link checkInvariants}. */
export interface Observations {
  /** Every event of the source stream, read back from the log once the scenario ended. */
  readonly committed: readonly string[];
  /** The source event of every effect committed through the worker (with the marker), repeats kept, in log order. */
  readonly effects: readonly string[];
  /**
   * When the handler returns several outputs per event: the parts beyond the effect
   * (`source#part`, repeats kept) and how many outputs each event has. A missing part counts as lost,
   * a repeated one as a double effect.
   */
  readonly outputs?: { readonly parts: readonly string[]; readonly perEvent: number };
  /**
   * Every failure whose failed-handler effect was committed (through `context.commit`, with the
   * failure's mark), repeats kept.
   */
  readonly handedOver: readonly string[];
  /** Every call of the failed handler, repeats kept (raw, outside any commit). */
  readonly failedHandlerCalls?: readonly (string | ObservedHandOver)[];
  /** How many times the handler ran to success per event (raw, outside any idempotency). */
  readonly handlerSuccesses: ReadonlyMap<string, number>;
  /** The handler's failed runs per event (raw), to check what the failed handler was told. */
  readonly handlerFailures?: ReadonlyMap<string, HandlerFailures>;
  /** Checkpoints in the order they were read. */
  readonly checkpoints: readonly ObservedCheckpoint[];
  /** On a FIFO pipeline: each committed event's partition key, so that effect order is checked per key. */
  readonly partitionKeys?: ReadonlyMap<string, string>;
  /**
   * Events sent back by a redrive after their hand-over: they may have both a hand-over (before) and
   * an effect (after), but still at most one effect.
   */
  readonly redriven?: ReadonlySet<string>;
  /**
   * The producer's own key of every event of the log (its number), repeats kept: a key stored twice
   * is a commit stored twice (a retry after a lost response that was not recognised).
   */
  readonly producerKeys?: readonly string[];
  /**
   * The positions explicit seeks moved the pipeline to (formatted). A seek is a replay: each event
   * after a seek's position may have one more effect (the worker takes it as new work).
   */
  readonly seekTargets?: readonly string[];
  /** Events the pipeline reported it could no longer read (an expired range): accounted for, not lost. */
  readonly reportedExpired?: ReadonlySet<string>;
}

/** The invariants of DESIGN.md, counted; and what is reported beside them. */
export interface InvariantCounts {
  readonly eventsCommitted: number;
  /** Committed events neither delivered (an effect committed) nor given to the failed handler. */
  readonly lost: number;
  /** Effects committed more than once: the extra ones. */
  readonly doubleEffects: number;
  /** Times a checkpoint was read behind the one read before it, other than just after a seek. */
  readonly checkpointRegressions: number;
  /** Failed-handler effects committed more than once: the extra hand-overs. */
  readonly failedHandlerDuplicates: number;
  /** Events stored twice by one producer's commit and its retry: the extra copies. */
  readonly doubleCommits: number;
  /** Events with both an effect and a failed-handler hand-over (a redrive's events excepted). */
  readonly effectAndHandOver: number;
  /** On FIFO: effects committed before an effect of an earlier event of the same partition key. */
  readonly orderInversions: number;
  /**
   * Failed-handler calls whose `attempts` or `lastError` were untrue: attempts below 1, attempts other
   * than the handler's failed runs for the event (when it ran), or a last error other than the one it
   * last threw.
   */
  readonly untrueFailures: number;
  /**
   * Reported, not an invariant: calls of the failed handler beyond the first for a failure (a crash
   * after it returned, before its mark). What they committed did not land twice.
   */
  readonly failedHandlerReruns: number;
  /** Reported, not an invariant: events with a committed effect. */
  readonly delivered: number;
  /** Reported, not an invariant: events given to the failed handler. */
  readonly deadLettered: number;
  /** Reported, not an invariant: events the pipeline reported expired before it read them. */
  readonly reportedExpired: number;
  /**
   * Reported, not an invariant: runs of the handler beyond the first success of an event (a crash or a
   * timeout after the handler, two deliveries at once). Their effects were not committed twice.
   */
  readonly handlerReruns: number;
  /** A few of the lost events, to start looking from. */
  readonly lostSample: readonly string[];
  /** A few of the other violations, each named with its event, to start looking from. */
  readonly violationSample: readonly string[];
}

/** The counts that are violations. */
export type ViolationCounts = Pick<
  InvariantCounts,
  | 'lost'
  | 'doubleEffects'
  | 'checkpointRegressions'
  | 'failedHandlerDuplicates'
  | 'doubleCommits'
  | 'effectAndHandOver'
  | 'orderInversions'
  | 'untrueFailures'
>;

/** The names of the violation counts, in report order. */
export const VIOLATION_KINDS = [
  'lost',
  'doubleEffects',
  'checkpointRegressions',
  'failedHandlerDuplicates',
  'doubleCommits',
  'effectAndHandOver',
  'orderInversions',
  'untrueFailures',
] as const satisfies readonly (keyof ViolationCounts)[];

/**
 * Counts what the invariants forbid in one scenario's observations, per event of the log: lost
 * events, effects committed twice, events with both an effect and a hand-over, effects out of order
 * per partition key (FIFO), untrue `attempts` or `lastError` given to the failed handler, checkpoint
 * regressions, and events handed over twice.
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
  const expired = observations.reportedExpired ?? new Set<string>();
  const redriven = observations.redriven ?? new Set<string>();
  const samples: string[] = [];
  const sample = (text: string) => {
    if (samples.length < 5) samples.push(text);
  };
  const lost = observations.committed.filter(
    (id) => !effectCounts.has(id) && !handOverCounts.has(id) && !expired.has(id),
  );
  const partCounts = tally(observations.outputs?.parts ?? []);
  let lostParts = 0;
  if (observations.outputs) {
    for (const source of effectCounts.keys())
      for (let part = 1; part < observations.outputs.perEvent; part += 1)
        if (!partCounts.has(`${source}#${part}`)) {
          lostParts += 1;
          sample(`${source}: output ${part} of ${observations.outputs.perEvent} is missing`);
        }
  }
  const both = observations.committed.filter(
    (id) => effectCounts.has(id) && handOverCounts.has(id) && !redriven.has(id),
  );
  for (const id of both) sample(`${id}: an effect and a failed-handler hand-over`);
  let handlerReruns = 0;
  for (const runs of observations.handlerSuccesses.values()) handlerReruns += Math.max(0, runs - 1);
  const calls = (observations.failedHandlerCalls ?? []).map((call) =>
    typeof call === 'string' ? { id: call } : call,
  );
  return {
    eventsCommitted: observations.committed.length,
    lost: lost.length + lostParts,
    doubleEffects: extrasBeyondReplays(effectCounts, observations.seekTargets ?? []) + extras(partCounts),
    checkpointRegressions: regressions(observations.checkpoints),
    failedHandlerDuplicates: extras(handOverCounts),
    doubleCommits: extras(tally(observations.producerKeys ?? [])),
    effectAndHandOver: both.length,
    orderInversions: inversions(observations, sample),
    untrueFailures: untrueFailures(calls, observations.handlerFailures, sample),
    delivered: effectCounts.size,
    deadLettered: handOverCounts.size,
    reportedExpired: observations.committed.filter((id) => expired.has(id) && !effectCounts.has(id)).length,
    handlerReruns,
    failedHandlerReruns: extras(tally(calls.map((call) => call.id))),
    lostSample: lost.slice(0, 5),
    violationSample: samples,
  };
}

/** The number of violations in `counts`: what makes a run fail. */
export function violationsOf(counts: Partial<ViolationCounts>): number {
  return VIOLATION_KINDS.reduce((sum, kind) => sum + (counts[kind] ?? 0), 0);
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

/** Effects beyond one per event plus one per seek that replayed it. */
function extrasBeyondReplays(counts: ReadonlyMap<string, number>, seekTargets: readonly string[]): number {
  if (seekTargets.length === 0) return extras(counts);
  const targets = seekTargets.map((target) => parsePosition(target));
  let sum = 0;
  for (const [id, count] of counts) {
    const at = positionAfterEvent(id);
    const replays = targets.filter((target) => comparePositions(at, target) > 0).length;
    sum += Math.max(0, count - 1 - replays);
  }
  return sum;
}

/** Effects of a partition key that landed after an effect of a later event of that key. */
function inversions(observations: Observations, sample: (text: string) => void): number {
  const keys = observations.partitionKeys;
  if (!keys) return 0;
  const latest = new Map<string, string>();
  let count = 0;
  for (const source of observations.effects) {
    const key = keys.get(source);
    if (key === undefined) continue;
    const before = latest.get(key);
    // Event ids sort as their commit order.
    if (before !== undefined && source < before) {
      count += 1;
      sample(`${source}: its effect landed after that of ${before}, a later event of key ${key}`);
    } else latest.set(key, source);
  }
  return count;
}

/** Failed-handler calls that were told an untrue number of attempts or last error. */
function untrueFailures(
  calls: readonly { id: string; attempts?: number; lastError?: string }[],
  failures: ReadonlyMap<string, HandlerFailures> | undefined,
  sample: (text: string) => void,
): number {
  let count = 0;
  for (const call of calls) {
    if (call.attempts === undefined) continue;
    const ran = failures?.get(call.id);
    const problems: string[] = [];
    if (!(call.attempts >= 1)) problems.push(`attempts ${call.attempts}, below 1`);
    const settled = ran?.settled ?? ran?.count ?? 0;
    if (ran && ran.count > 0 && (call.attempts > ran.count || call.attempts < settled))
      problems.push(
        settled === ran.count
          ? `attempts ${call.attempts}, but the handler failed ${ran.count} time(s)`
          : `attempts ${call.attempts}, but the handler failed ${settled} to ${ran.count} time(s)`,
      );
    if (ran && ran.count > 0 && call.lastError !== ran.lastError && call.lastError !== ran.lastSettledError)
      problems.push(`lastError '${call.lastError}', but the handler last threw '${ran.lastError}'`);
    if (problems.length > 0) {
      count += 1;
      sample(`${call.id}: ${problems.join('; ')}`);
    }
  }
  return count;
}

function regressions(checkpoints: readonly ObservedCheckpoint[]): number {
  let count = 0;
  for (let index = 1; index < checkpoints.length; index += 1) {
    const previous = checkpoints[index - 1] as ObservedCheckpoint;
    const current = checkpoints[index] as ObservedCheckpoint;
    const backwards = comparePositions(parsePosition(current.position), parsePosition(previous.position)) < 0;
    if ((backwards && !current.afterSeek) || current.version < previous.version) count += 1;
  }
  return count;
}
