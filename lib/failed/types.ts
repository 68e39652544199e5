import type { EventInput, StoredEvent } from '../event-log/types';
import type { EventFailure } from '../messages/envelope';

/** The error a failed event carries when no attempt recorded one (a worker timed out or crashed). */
export const UNKNOWN_FAILURE_NAME = 'UnknownFailure';

/**
 * An event that kept failing and reached the failed-event handler: the event itself, how many times
 * it was tried, and why its last attempt failed.
 *
 * @example
 * ```ts
 * const failedHandler: FailedHandler = async (failures) => {
 *   for (const { event, attempts, lastError } of failures) await alertOps(event.id, attempts, lastError.message);
 * };
 * ```
 */
export interface FailedEvent<TData = unknown> {
  readonly pipeline: string;
  readonly event: StoredEvent<TData>;
  /** Attempts made, the last one included. */
  readonly attempts: number;
  /** Why the last attempt failed; `name` is `UnknownFailure` when no attempt recorded an error. */
  readonly lastError: EventFailure;
  /** When the event was given up on, in epoch milliseconds. */
  readonly failedAt: number;
  /**
   * The redrive that had sent the event back for a fresh start, when it failed again after one: each
   * redrive gives an event a new chance, so a failure after it is handed over again.
   */
  readonly redrive?: string;
}

/** What a failed-event handler is told besides the failures. */
export interface FailedHandlerContext {
  readonly pipeline: string;
  /** The Lambda request id, or a generated one outside Lambda. */
  readonly requestId: string;
  /**
   * Commits events for one of the failures handed over, atomically with marking that failure handled
   * (the failed handler's ackCommit): if the consumer dies after the handler returns, neither lands,
   * the failure is handed over again, and what it commits lands once. Needs an event log (the
   * `SLUICE_EVENT_LOG_TABLE` variable, or the `eventLog` option).
   *
   * @throws `ValidationError` for an event id not among the failures handed over, or when there is no
   * event log to commit to.
   */
  commit(eventId: string, events: EventInput | readonly EventInput[]): void;
}

/**
 * The user's handler for events that kept failing. It is called once per event (idempotently: a
 * failure already handled is not handed over again). If it throws, the failures are handed over again
 * later.
 */
export type FailedHandler<TData = unknown> = (
  failures: readonly FailedEvent<TData>[],
  context: FailedHandlerContext,
) => Promise<void> | void;

/** The places in a dead-letter batch where a test can stop the consumer as if its Lambda died. */
export const DEAD_LETTER_STEPS = {
  /** The batch's events are claimed and their pending records written; the failed handler has not run. */
  afterClaim: 'after-claim',
  /** The failed handler returned; its events are not yet marked handled. */
  afterFailedHandler: 'after-failed-handler',
} as const;
export type DeadLetterStep = (typeof DEAD_LETTER_STEPS)[keyof typeof DEAD_LETTER_STEPS];

/**
 * Called at each named step of a dead-letter batch. Production code leaves it out; a test that throws
 * from it stops the batch on the spot with no cleanup (no claim released), as a crash would.
 *
 * @example
 * ```ts
 * const onStep: DeadLetterStepHook = (step) => {
 *   if (step === DEAD_LETTER_STEPS.afterClaim) throw new Error('crash after the claims');
 * };
 * ```
 */
export type DeadLetterStepHook = (
  step: DeadLetterStep,
  context: { readonly pipeline: string; readonly eventIds: readonly string[] },
) => void | Promise<void>;
