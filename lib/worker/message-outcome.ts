import type { ErrorSummary } from '../failed/truncate';
import type { EventResult } from './batch-work';

/** An event as the outcome planner sees it: its id and the attempt it was on. */
export interface AttemptedEvent {
  readonly id: string;
  /** 1 on the first delivery. */
  readonly attempt: number;
}

/** What the handler's results mean for one message; see {@link planMessageOutcome}. */
export interface MessageOutcome<TEvent extends AttemptedEvent> {
  /** Events to record as handled, in message order: those that succeeded and those given up. */
  readonly toRecord: readonly TEvent[];
  /** Events that failed for the last time, with their error: they go to the failed handler. */
  readonly givenUp: readonly { readonly event: TEvent; readonly error: ErrorSummary }[];
  /** Every event that failed in this delivery, and whether it was its last attempt: for the log. */
  readonly failedNow: readonly {
    readonly event: TEvent;
    readonly error: ErrorSummary;
    readonly lastAttempt: boolean;
  }[];
  /** Events the handler never started (time ran out, or their FIFO group was held). */
  readonly unstarted: number;
  /** Failed attempts per event so far, this delivery's included: what the marker keeps. */
  readonly failures: Readonly<Record<string, number>>;
  /** Every event is recorded: the message is done. */
  readonly allDone: boolean;
  /** Some event failed and will be tried again (not only unstarted ones). */
  readonly retriesFailures: boolean;
  /**
   * When the message is not done, how long it waits before it comes back: the longest wait among its
   * events to be retried, or 0 when only unstarted events are left.
   */
  readonly retryAfterSeconds: number;
}

/**
 * The outcome of one message from its events' results, without side effects: which events are
 * recorded, which go to the failed handler, whether the message comes back and after how long.
 *
 * An event that failed goes to the failed handler when its error is not retryable or its attempt
 * reached `maxRedeliveryCount`; otherwise it is retried after the wait its error asked for, or after
 * `delaySecondsFor(attempt)` (the pipeline's backoff), which is called once for each such event, in
 * message order. An event with no result counts as unstarted.
 *
 * @example
 * ```ts
 * const outcome = planMessageOutcome(message.events, message.results, {
 *   failuresBefore: marker?.failures ?? {},
 *   maxRedeliveryCount: 3,
 *   delaySecondsFor: (attempt) => backoffDelaySeconds(attempt, backoff),
 * });
 * if (!outcome.allDone) comeBackAfter(outcome.retryAfterSeconds);
 * ```
 */
export function planMessageOutcome<TEvent extends AttemptedEvent>(
  events: readonly TEvent[],
  results: ReadonlyMap<string, EventResult>,
  options: {
    readonly failuresBefore: Readonly<Record<string, number>>;
    readonly maxRedeliveryCount: number;
    readonly delaySecondsFor: (attempt: number) => number;
  },
): MessageOutcome<TEvent> {
  const failures: Record<string, number> = { ...options.failuresBefore };
  const toRecord: TEvent[] = [];
  const givenUp: { event: TEvent; error: ErrorSummary }[] = [];
  const failedNow: { event: TEvent; error: ErrorSummary; lastAttempt: boolean }[] = [];
  let unstarted = 0;
  let retryAfterSeconds = 0;
  let retriesFailures = false;
  for (const event of events) {
    const result = results.get(event.id) ?? { kind: 'unstarted' };
    if (result.kind === 'succeeded') {
      toRecord.push(event);
    } else if (result.kind === 'unstarted') {
      unstarted += 1;
    } else {
      failures[event.id] = (failures[event.id] ?? 0) + 1;
      const lastAttempt = !result.retryable || event.attempt >= options.maxRedeliveryCount;
      failedNow.push({ event, error: result.error, lastAttempt });
      if (lastAttempt) {
        givenUp.push({ event, error: result.error });
        toRecord.push(event);
      } else {
        retriesFailures = true;
        retryAfterSeconds = Math.max(
          retryAfterSeconds,
          result.retryAfterSeconds ?? options.delaySecondsFor(event.attempt),
        );
      }
    }
  }
  const allDone = unstarted === 0 && !retriesFailures;
  return {
    toRecord,
    givenUp,
    failedNow,
    unstarted,
    failures,
    allDone,
    retriesFailures,
    retryAfterSeconds,
  };
}
