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

export {
  BACKFILL_ID_PATTERN,
  BACKFILL_NAME_INFIX,
  MAX_PIPELINE_NAME_LENGTH,
} from '../pipeline/backfill-names';
