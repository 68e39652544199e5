import type { EventLog } from '../lib';
import { EventIdGenerator } from '../lib/time/event-id';
import { commitSurely } from './commit-surely';
import type { ChaosInput } from './event-kinds';

/** What {@link commitHistory} commits, and through what. */
export interface HistoryOptions {
  /** How many events: numbers 0 to `count - 1`. */
  readonly count: number;
  /** How far back the first event's id lies. */
  readonly hours: number;
  /** Event `n` of the source stream. */
  readonly input: (n: number) => ChaosInput;
  /** An event log on the source table whose ids come from `idGenerator`. */
  readonly logWith: (idGenerator: EventIdGenerator) => EventLog;
}

/**
 * Commits the events a scenario's pipeline finds when it starts, in batches of 100, their ids spread
 * evenly over the past `hours` (up to a minute ago).
 *
 * @example
 * ```ts
 * await commitHistory({ count: 300, hours: 3, input: (n) => pipeline.input(n), logWith });
 * ```
 */
export async function commitHistory(options: HistoryOptions): Promise<void> {
  const { count, hours } = options;
  if (count === 0) return;
  const from = Date.now() - hours * 3_600_000;
  const step = Math.floor((hours * 3_600_000 - 60_000) / count);
  for (let start = 0; start < count; start += 100) {
    const inputs = Array.from({ length: Math.min(100, count - start) }, (_, offset) =>
      options.input(start + offset),
    );
    // Each attempt takes the batch's own times again: a re-commit must not push the ids of the
    // events behind it later (past the end of the history, into the future).
    await commitSurely(() => {
      let clock = from + start * step;
      return options.logWith(new EventIdGenerator({ now: () => (clock += step) }));
    }, inputs);
  }
}
