import { CommitError, CommitOutcomeUnknownError, type EventLog } from '../lib';
import type { ChaosInput } from './event-kinds';

/**
 * Commits events as a careful producer does: when the outcome is unknown (a lost response, a commit
 * past its deadline), it checks each id with `get()` and commits again only the events that did not
 * land, as `CommitOutcomeUnknownError` advises; a `CommitError` wrote nothing (a commit is atomic),
 * so it commits them all again (a slow emulator can miss the deadline while indexing a bucket).
 * Resolves to how many outcomes were unknown. Given a function, it takes a new log from it for each
 * attempt (a producer whose ids must not move on between attempts).
 *
 * @example
 * ```ts
 * const unknown = await commitSurely(eventLog, [pipeline.input(1), pipeline.input(2)]);
 * ```
 */
export async function commitSurely(
  logOrFactory: EventLog | (() => EventLog),
  inputs: readonly ChaosInput[],
  attempts = 5,
): Promise<number> {
  let pending = [...inputs];
  let unknown = 0;
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    const log = typeof logOrFactory === 'function' ? logOrFactory() : logOrFactory;
    try {
      await log.commit(pending);
      return unknown;
    } catch (error) {
      if (error instanceof CommitError && attempt < attempts) continue;
      if (!(error instanceof CommitOutcomeUnknownError) || attempt >= attempts) throw error;
      unknown += 1;
      const landed = await Promise.all(
        error.eventIds.map(async (id) => (await log.get(pending[0]?.stream ?? '', id)) !== undefined),
      );
      pending = pending.filter((_, index) => !landed[index]);
    }
  }
  return unknown;
}
