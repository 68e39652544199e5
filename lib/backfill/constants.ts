/**
 * The EventBridge `source` and `detail-type`s of backfill events: a request starts a backfill, and
 * one "Backfill Completed" event is emitted when it reaches its stop position.
 *
 * @example
 * ```ts
 * bus.putRule({
 *   name: 'backfills',
 *   eventPattern: { source: [BACKFILL_EVENTS.source], 'detail-type': [BACKFILL_EVENTS.requested] },
 *   targets: [backfillHandler],
 * });
 * ```
 */
export const BACKFILL_EVENTS = {
  source: 'sluice',
  requested: 'Backfill Requested',
  completed: 'Backfill Completed',
} as const;

/** What joins a pipeline's name and a backfill id into the backfill pipeline's name. */
export const BACKFILL_NAME_INFIX = '.backfill.';

/** A backfill id: 1 to 36 letters, digits, `_` or `-` (a UUID fits). */
export const BACKFILL_ID_PATTERN = /^[A-Za-z0-9_-]{1,36}$/;

/** The longest pipeline name the state table takes. */
export const MAX_PIPELINE_NAME_LENGTH = 128;
