import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventResult } from '../../lib/worker/batch-work';
import { type AttemptedEvent, planMessageOutcome } from '../../lib/worker/message-outcome';

const MAX_REDELIVERY_COUNT = 3;
const DECLINED = { name: 'TypeError', message: 'card declined' };

const succeeded: EventResult = { kind: 'succeeded' };
const unstarted: EventResult = { kind: 'unstarted' };
const failed = (retryable = true, retryAfterSeconds?: number): EventResult => ({
  kind: 'failed',
  error: DECLINED,
  retryable,
  ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
});

/** Plans a message of events `e1`, `e2`, ... on the given attempts with the given results. */
function plan(
  events: readonly { attempt: number; result?: EventResult }[],
  options: { failuresBefore?: Record<string, number>; delaySecondsFor?: (attempt: number) => number } = {},
) {
  const attempted: AttemptedEvent[] = events.map(({ attempt }, index) => ({ id: `e${index + 1}`, attempt }));
  const results = new Map<string, EventResult>();
  events.forEach(({ result }, index) => {
    if (result) results.set(`e${index + 1}`, result);
  });
  const delays: number[] = [];
  const outcome = planMessageOutcome(attempted, results, {
    failuresBefore: options.failuresBefore ?? {},
    maxRedeliveryCount: MAX_REDELIVERY_COUNT,
    delaySecondsFor: (attempt) => {
      delays.push(attempt);
      return (options.delaySecondsFor ?? ((n) => n * 10))(attempt);
    },
  });
  return { outcome, delays, ids: (list: readonly { id: string }[]) => list.map((event) => event.id) };
}

describe('planMessageOutcome', () => {
  it('is done when every event succeeded, and records them all in order', () => {
    const { outcome, ids } = plan([
      { attempt: 1, result: succeeded },
      { attempt: 2, result: succeeded },
    ]);

    expect(outcome.allDone).toBe(true);
    expect(ids(outcome.toRecord)).toEqual(['e1', 'e2']);
    expect(outcome).toMatchObject({ givenUp: [], failedNow: [], unstarted: 0, retryAfterSeconds: 0 });
  });

  it('retries an event that failed before its last attempt, after the backoff of its attempt', () => {
    const { outcome, delays, ids } = plan([
      { attempt: 1, result: succeeded },
      { attempt: 2, result: failed() },
    ]);

    expect(outcome.allDone).toBe(false);
    expect(outcome.retriesFailures).toBe(true);
    expect(ids(outcome.toRecord)).toEqual(['e1']);
    expect(outcome.retryAfterSeconds).toBe(20);
    expect(delays).toEqual([2]);
    expect(outcome.failures).toEqual({ e2: 1 });
    expect(outcome.failedNow.map(({ lastAttempt }) => lastAttempt)).toEqual([false]);
  });

  it('gives an event up at exactly maxRedeliveryCount attempts, not one before', () => {
    const before = plan([{ attempt: MAX_REDELIVERY_COUNT - 1, result: failed() }]);
    const at = plan([{ attempt: MAX_REDELIVERY_COUNT, result: failed() }]);

    expect(before.outcome.allDone).toBe(false);
    expect(before.outcome.givenUp).toEqual([]);
    expect(at.outcome.allDone).toBe(true);
    expect(at.ids(at.outcome.givenUp.map(({ event }) => event))).toEqual(['e1']);
    expect(at.ids(at.outcome.toRecord)).toEqual(['e1']);
    expect(at.delays).toEqual([]);
  });

  it('gives up at once on an error that is not retryable, whatever the attempt', () => {
    const { outcome, ids } = plan([{ attempt: 1, result: failed(false) }]);

    expect(outcome.allDone).toBe(true);
    expect(ids(outcome.givenUp.map(({ event }) => event))).toEqual(['e1']);
    expect(outcome.givenUp[0]?.error).toEqual(DECLINED);
  });

  it('comes back at once when only unstarted events are left, and counts an event without a result as unstarted', () => {
    const { outcome } = plan([
      { attempt: 1, result: succeeded },
      { attempt: 1, result: unstarted },
      { attempt: 1 },
    ]);

    expect(outcome.allDone).toBe(false);
    expect(outcome.retriesFailures).toBe(false);
    expect(outcome.unstarted).toBe(2);
    expect(outcome.retryAfterSeconds).toBe(0);
  });

  it('waits the longest of its events: a retry-after the error asked for, or the backoff', () => {
    const { outcome, delays } = plan([
      { attempt: 1, result: failed(true, 300) },
      { attempt: 2, result: failed() },
      { attempt: 1, result: unstarted },
    ]);

    expect(outcome.retryAfterSeconds).toBe(300);
    // The backoff is drawn only for the event that asked for no wait of its own.
    expect(delays).toEqual([2]);
  });

  it('adds this delivery to the failures the marker kept, and leaves the given counts alone', () => {
    const failuresBefore = { e1: 1, other: 4 };
    const { outcome } = plan(
      [
        { attempt: 2, result: failed() },
        { attempt: 1, result: succeeded },
      ],
      {
        failuresBefore,
      },
    );

    expect(outcome.failures).toEqual({ e1: 2, other: 4 });
    expect(failuresBefore).toEqual({ e1: 1, other: 4 });
  });

  it('puts every event in exactly one of recorded, retried and unstarted, in message order', () => {
    const resultArbitrary = fc.oneof(
      fc.constant(succeeded),
      fc.constant(unstarted),
      fc.constant(undefined),
      fc.boolean().map((retryable) => failed(retryable)),
      fc.integer({ min: 0, max: 900 }).map((seconds) => failed(true, seconds)),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.record(
            { attempt: fc.integer({ min: 1, max: 5 }), result: resultArbitrary },
            { requiredKeys: ['attempt'] },
          ),
          { maxLength: 20 },
        ),
        (events) => {
          const { outcome, ids } = plan(
            events.map(({ attempt, result }) => ({ attempt, ...(result ? { result } : {}) })),
          );
          const recorded = new Set(ids(outcome.toRecord));
          const retried = outcome.failedNow
            .filter(({ lastAttempt }) => !lastAttempt)
            .map(({ event }) => event.id);
          const all = [...recorded, ...retried];
          expect(new Set(all).size).toBe(all.length);
          expect(all.length + outcome.unstarted).toBe(events.length);
          expect(ids(outcome.toRecord)).toEqual(
            [...ids(outcome.toRecord)].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))),
          );
          expect(outcome.allDone).toBe(retried.length === 0 && outcome.unstarted === 0);
          if (outcome.allDone || !outcome.retriesFailures) expect(outcome.retryAfterSeconds).toBe(0);
        },
      ),
    );
  });
});
