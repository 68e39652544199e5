import type { EventInput, StoredEvent } from '../event-log/types';

/** An event as a handler receives it: the stored event, and which attempt this is. */
export interface WorkerEvent<TData = unknown> extends StoredEvent<TData> {
  /** 1 on the first attempt. */
  readonly attempt: number;
  /** The SQS message it came in. */
  readonly messageId: string;
}

/** What every handler is given besides its events. */
export interface HandlerContext {
  readonly pipeline: string;
  /** The Lambda request id. */
  readonly requestId: string;
  /** Milliseconds left before the Lambda times out. */
  remainingTimeMs(): number;
  /**
   * Output events for other streams, committed atomically with the acknowledgement of `forEventId`
   * (PipeProc's ackCommit): both land or neither, and only if that event succeeds. In a per-event
   * handler `forEventId` may be left out. One event's outputs must fit in one DynamoDB transaction
   * (99 events and 4 MB); an event whose outputs do not goes to the failed handler with a
   * `TooLargeError` with what `transaction`. A message's events may have any number of outputs between them.
   */
  commit(events: EventInput | readonly EventInput[], forEventId?: string): void;
}

/** The manual (pull) mode's context: settle each event yourself. */
export interface ManualContext extends HandlerContext {
  /** These events succeeded. */
  ack(eventIds: string | readonly string[]): void;
  /**
   * These events failed: retried after a backoff (or `retryAfterSeconds`), or handed to the failed
   * handler at once when `retryable` is false.
   */
  fail(
    eventIds: string | readonly string[],
    options?: { reason?: string | Error; retryAfterSeconds?: number; retryable?: boolean },
  ): void;
}

/** Handles one event; throw to fail it. May return output events to commit with its acknowledgement. */
export type EventHandler<TData = unknown> = (
  event: WorkerEvent<TData>,
  context: HandlerContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing is `async () => {}`, of type Promise<void>.
) => Promise<void | EventInput | readonly EventInput[]> | void | EventInput | readonly EventInput[];

/** Handles a whole batch; throw to fail every event in it. */
export type BatchHandler<TData = unknown> = (
  events: readonly WorkerEvent<TData>[],
  context: HandlerContext,
) => Promise<void> | void;

/**
 * Handles a batch and settles each event with `context.ack()` or `context.fail()`. Events left
 * unsettled when it returns are failed (and retried).
 */
export type ManualHandler<TData = unknown> = (
  events: readonly WorkerEvent<TData>[],
  context: ManualContext,
) => Promise<void> | void;

/**
 * A validator in the Standard Schema form (https://standardschema.dev), which zod, valibot and arktype
 * implement: `schema['~standard'].validate(value)`.
 */
export interface StandardSchema<TOutput = unknown> {
  readonly '~standard': {
    readonly validate: (value: unknown) =>
      | { readonly value: TOutput; readonly issues?: undefined }
      | {
          readonly issues: readonly {
            readonly message: string;
            readonly path?: readonly unknown[] | undefined;
          }[];
        }
      | Promise<
          | { readonly value: TOutput; readonly issues?: undefined }
          | {
              readonly issues: readonly {
                readonly message: string;
                readonly path?: readonly unknown[] | undefined;
              }[];
            }
        >;
  };
}

/** What one batch came to. */
export interface BatchOutcome {
  /** The SQS partial-batch response: messages to retry. */
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
  readonly stats: BatchStats;
}

/** Counts of one batch, for metrics and tests. */
export interface BatchStats {
  messages: number;
  events: number;
  succeeded: number;
  failed: number;
  retried: number;
  deadLettered: number;
  /** Events skipped because their message was already handled: a redelivery or a re-send. */
  duplicatesSkipped: number;
  /** Events of a message that came back after a partial failure, skipped because they already succeeded. */
  resumed: number;
  unstarted: number;
  malformed: number;
  outputEvents: number;
  /** The sum, over the events that succeeded, of the time from their commit to their success, in ms. */
  latencyMsTotal: number;
}

/** The places in a batch where a test can stop the worker as if its Lambda died. */
export const WORKER_STEPS = {
  /** The batch is parsed and its markers read; no handler has run. */
  afterRead: 'after-read',
  /** The handler ran; nothing of its outcome is recorded. */
  afterHandler: 'after-handler',
  /** A message has events for the dead-letter queue; none is sent yet. */
  beforeDeadLetter: 'before-dead-letter',
  /**
   * A message's dead letters are sent (if any); its marker and outputs are not written. Reached
   * before each transaction when the outputs take several (see `docs/worker-outputs.md`).
   */
  beforeMarker: 'before-marker',
  /**
   * A message's marker and outputs are written (or, when the outputs take several transactions, one
   * more of them); the batch response is not returned.
   */
  afterMarker: 'after-marker',
  /** Every message is settled and backoffs are set; the batch response is not returned. */
  beforeResponse: 'before-response',
} as const;
export type WorkerStep = (typeof WORKER_STEPS)[keyof typeof WORKER_STEPS];

/**
 * Called at each named step of a batch. Production code leaves it out; a test that throws from it
 * stops the batch on the spot with no cleanup, as a crash of the Lambda would: the error comes out of
 * the handler, so the event source fails the whole batch and its messages come back.
 *
 * @example
 * ```ts
 * const onStep: WorkerStepHook = (step) => {
 *   if (step === WORKER_STEPS.beforeMarker) throw new Error('crash before the marker');
 * };
 * ```
 */
export type WorkerStepHook = (
  step: WorkerStep,
  context: { readonly pipeline: string; readonly messageIds: readonly string[] },
) => void | Promise<void>;
