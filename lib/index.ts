export * from './errors';
export {
  DEFAULT_COMMIT_DEADLINE_MS,
  DEFAULT_SETTLE_WINDOW_MS,
  MAX_ITEM_BYTES,
  MAX_TRANSACTION_BYTES,
  MAX_TRANSACTION_ITEMS,
} from './event-log/constants';
export { EventLog, validateEventLogOptions } from './event-log/event-log';
export type { EventSource, ReadAfterOptions, ReadAfterPage } from './event-log/event-source';
export { assertEventType, assertStreamName } from './event-log/names';
export { EVENT_LOG_TTL_ATTRIBUTE, eventLogTableDefinition } from './event-log/table';
export type {
  EventInput,
  EventLogOptions,
  ListTimeBucketsOptions,
  RangeBound,
  RangeOptions,
  RangePage,
  StoredEvent,
  StreamSettings,
} from './event-log/types';
export {
  assertEventId,
  EventIdGenerator,
  type EventIdGeneratorOptions,
  eventIdToEpochMs,
  eventIdToTime,
  isEventId,
  largestEventIdAt,
  smallestEventIdAt,
} from './time/event-id';
export {
  assertPosition,
  comparePositions,
  formatPosition,
  isDeliveredAt,
  lastDeliveredBound,
  type Position,
  parsePosition,
  positionAfterEvent,
  positionAtBucketStart,
  positionAtTime,
} from './time/position';
export {
  assertTimeBucket,
  type Instant,
  isTimeBucket,
  nextTimeBucket,
  previousTimeBucket,
  TIME_BUCKET_MS,
  timeBucketOf,
  timeBucketStartMs,
  timeBucketsBetween,
  timeBucketToDate,
  toEpochMs,
} from './time/time-bucket';
