import { SluiceError } from './base';

/** A commit that DynamoDB refused: nothing of it was written. */
export class CommitError extends SluiceError {
  declare readonly code: 'commit-refused';
  /** The ids the refused events would have had. */
  readonly eventIds: readonly string[];
  /** One reason per event, in commit order, where DynamoDB gave them (`None` for events that were not at fault). */
  readonly reasons: readonly string[];
  /**
   * For `commitWith`: one reason per write of the caller's own, in the order given (`None` for those
   * not at fault), such as `ConditionalCheckFailed` when the condition of one of them did not hold.
   * Empty for other commits, and when DynamoDB gave no reasons.
   */
  readonly otherWriteReasons: readonly string[];

  constructor(
    message: string,
    details: {
      eventIds: readonly string[];
      reasons: readonly string[];
      otherWriteReasons?: readonly string[];
    },
    options?: { cause?: unknown },
  ) {
    super(message, { cause: options?.cause, code: 'commit-refused' });
    this.name = 'CommitError';
    this.eventIds = details.eventIds;
    this.reasons = details.reasons;
    this.otherWriteReasons = details.otherWriteReasons ?? [];
  }
}

/**
 * A commit whose outcome is unknown: it did not finish within its deadline (it was abandoned so that it
 * cannot land after tailing readers have passed its ids), or its request failed in a way that does not
 * say whether DynamoDB applied it (a lost response, a server error). Nothing more of it can land once
 * this is thrown. Check each of `eventIds` with `eventLog.get()`, and commit again only the events that
 * are missing (they get new ids); committing all again would store the landed ones twice.
 *
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof CommitOutcomeUnknownError) {
 *     const landed = await log.get('orders', error.eventIds[0]);
 *     if (!landed) await log.commit(event);
 *   }
 * }
 * ```
 */
export class CommitOutcomeUnknownError extends SluiceError {
  declare readonly code: 'commit-outcome-unknown';
  /** The ids the events have if they landed. */
  readonly eventIds: readonly string[];
  readonly elapsedMs: number;

  constructor(
    details: { eventIds: readonly string[]; elapsedMs: number; deadlineMs: number; reason?: string },
    options?: { cause?: unknown },
  ) {
    const what = `commit of ${details.eventIds.length} event(s)`;
    const ids = details.eventIds.slice(0, 5).join(', ') + (details.eventIds.length > 5 ? ', ...' : '');
    super(
      details.reason === undefined
        ? `${what} was abandoned after ${details.elapsedMs} ms, over its deadline of ${details.deadlineMs} ms; it may or may not have been written: check with get() (ids ${ids})`
        : `${what} ${details.reason}; it may or may not have been written: check with get() (ids ${ids})`,
      { cause: options?.cause, code: 'commit-outcome-unknown' },
    );
    this.name = 'CommitOutcomeUnknownError';
    this.eventIds = details.eventIds;
    this.elapsedMs = details.elapsedMs;
  }
}

/** What became of one event of a `commitBatched()` call. */
export type BatchCommitOutcome =
  /** Stored under `id`. */
  | { readonly status: 'committed'; readonly id: string }
  /** Refused: nothing of it was written. */
  | { readonly status: 'failed'; readonly error: Error }
  /** Its commit stalled or lost its response: it may be stored under `id`; check with `get()`. */
  | { readonly status: 'unknown'; readonly id: string; readonly error: Error }
  /** Not tried: the batch stopped at an earlier failure. Commit it again. */
  | { readonly status: 'not-attempted' };

/**
 * A `commitBatched()` call that stopped part-way. It says what became of every event, in input order:
 * which ids were committed, which events failed and why, which may or may not have landed, and which
 * were never tried; `cause` is the first failure.
 *
 * @example
 * ```ts
 * try {
 *   await log.commitBatched(rows);
 * } catch (error) {
 *   if (!(error instanceof BatchCommitError)) throw error;
 *   const retry = rows.filter((_, index) => error.outcomes[index]?.status !== 'committed');
 * }
 * ```
 */
export class BatchCommitError extends SluiceError {
  declare readonly code: 'batch-commit-stopped';
  /** One outcome per event given, in the same order. */
  readonly outcomes: readonly BatchCommitOutcome[];
  /** The ids of the events that were stored, in input order. */
  readonly committedIds: readonly string[];

  constructor(outcomes: readonly BatchCommitOutcome[], options?: { cause?: unknown }) {
    const indexes = (status: BatchCommitOutcome['status']) =>
      outcomes.flatMap((outcome, index) => (outcome.status === status ? [index] : []));
    const failed = indexes('failed');
    const unknown = indexes('unknown');
    const skipped = indexes('not-attempted');
    const committed = outcomes.flatMap((outcome) => (outcome.status === 'committed' ? [outcome.id] : []));
    const first = failed[0] ?? unknown[0];
    const firstOutcome = first === undefined ? undefined : outcomes[first];
    const reason =
      firstOutcome && 'error' in firstOutcome ? `; event ${first}: ${firstOutcome.error.message}` : '';
    super(
      `commitBatched stopped part-way: ${committed.length} of ${outcomes.length} events committed, ${failed.length} failed (nothing written) at ${listIndexes(failed)}, ${unknown.length} of unknown outcome at ${listIndexes(unknown)}, ${skipped.length} not attempted${reason}; \`outcomes\` holds each event's id or error`,
      { cause: options?.cause, code: 'batch-commit-stopped' },
    );
    this.name = 'BatchCommitError';
    this.outcomes = outcomes;
    this.committedIds = committed;
  }
}

function listIndexes(indexes: readonly number[]): string {
  if (indexes.length === 0) return 'none';
  const shown = indexes.slice(0, 10).join(', ');
  return `event${indexes.length === 1 ? '' : 's'} ${shown}${indexes.length > 10 ? ', ...' : ''}`;
}

/** A stored item that the event log cannot read back as an event. */
export class CorruptEventError extends SluiceError {
  declare readonly code: 'corrupt-event';
  /** The first event the unreadable item holds. */
  readonly eventId: string;
  /**
   * Every event the unreadable item holds, in id order: one for an item of one event, all of a
   * segment's (their ids follow from the segment's key) for a segment.
   */
  readonly eventIds: readonly string[];

  constructor(
    details: { stream: string; eventId: string; reason: string; eventIds?: readonly string[] },
    options?: { cause?: unknown },
  ) {
    super(`event ${details.eventId} on stream '${details.stream}' cannot be read: ${details.reason}`, {
      cause: options?.cause,
      code: 'corrupt-event',
    });
    this.name = 'CorruptEventError';
    this.eventId = details.eventId;
    this.eventIds = details.eventIds ?? [details.eventId];
  }
}
