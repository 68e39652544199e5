import { describe } from '../errors';
import type { FailureStore } from './failure-store';
import type { Claim, FailedEventLogger } from './records';
import type { FailedEvent } from './types';

/** How many store calls run at once. */
const CONCURRENCY = 8;

/** The logger used when none is given. */
export const NOOP_LOGGER: FailedEventLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/** One distinct event of the batch, and the messages that carry it. */
export interface BatchEvent {
  readonly failure: FailedEvent;
  /** The first message of the batch that carries it. */
  readonly dlqMessageId: string;
  readonly messageIds: string[];
}

/** An event this call holds the claim of, with its failure time as the claim fixed it. */
export interface ClaimedEvent extends BatchEvent {
  readonly claim: Claim;
}

/** What one call of `handleDeadLetters()` works with and counts. */
export interface Batch {
  readonly pipeline: string;
  readonly store: FailureStore;
  readonly logger: FailedEventLogger;
  /** Messages to report in `batchItemFailures`. */
  readonly retry: Set<string>;
  skippedAsDuplicates: number;
  claimedElsewhere: number;
  malformed: number;
  completedBefore: number;
}

/** An error as logged: its name and message. */
export function errorSummary(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: describe(error) };
}

/** Runs `work` on every item, at most {@link CONCURRENCY} at a time. */
export async function forEachLimited<T>(
  items: readonly T[],
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}
