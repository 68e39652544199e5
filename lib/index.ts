export * from './backfill';
export * from './consumer';
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
export { assertEventType, assertStreamName, NAME_PATTERN, NAME_RULE } from './event-log/names';
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
  CLAIM_STATUS,
  type ClaimStatus,
  DEFAULT_CLAIM_DURATION_MS,
  DEFAULT_FAILURE_RETENTION_SECONDS,
  FAILURE_STATUS,
  type FailureStatus,
  UNKNOWN_FAILURE_MESSAGE,
} from './failed/constants';
export { deadLetterFailure } from './failed/dead-letter-failure';
export {
  type DeadLetterBatchResult,
  type HandleDeadLettersOptions,
  handleDeadLetters,
} from './failed/dlq-consumer';
export {
  ClaimLostError,
  RedriveError,
  RedriveFailuresError,
  type RedriveFailuresProgress,
  type RedriveProgress,
} from './failed/errors';
export {
  createFailedEventFunction,
  FAILED_EVENT_ENVIRONMENT,
  type FailedEventFunctionOptions,
  type FailedEventLambdaContext,
  type SqsBatchResponse,
  type SqsEventLike,
} from './failed/failed-event-function';
export { FailureStore, type FailureStoreOptions, type MalformedMessageInput } from './failed/failure-store';
export type {
  Claim,
  ClaimResult,
  FailedEventLogger,
  FailurePage,
  FailureRecord,
  ListRecordsOptions,
  MalformedPage,
  MalformedRecord,
  SqsRecordLike,
} from './failed/records';
export { type RedriveOptions, type RedriveResult, redriveDeadLetters } from './failed/redrive';
export {
  type RedriveFailuresOptions,
  type RedriveFailuresResult,
  redriveFailures,
} from './failed/redrive-failures';
export { matchesRedriveFilter, type RedriveFilter, validateRedriveFilter } from './failed/redrive-filter';
export {
  DEAD_LETTER_STEPS,
  type DeadLetterStep,
  type DeadLetterStepHook,
  type FailedEvent,
  type FailedHandler,
  type FailedHandlerContext,
  UNKNOWN_FAILURE_NAME,
} from './failed/types';
export { Fetcher, type FetcherOptions, type FetcherRunOptions } from './fetcher/fetcher';
export {
  FETCHER_ENVIRONMENT,
  type FetcherEnvironment,
  type FetcherEnvironmentVariable,
  fetcherFromEnvironment,
  readFetcherEnvironment,
} from './fetcher/from-environment';
export {
  DEFAULT_MAX_EVENTS_PER_MESSAGE,
  DEFAULT_MAX_MESSAGE_BYTES,
  EventTooLargeForMessageError,
  lastContiguousAcceptedEventId,
  messageGroupIdFor,
  type PackedMessage,
  type PackingOptions,
  packEvents,
} from './fetcher/packing';
export { PIPELINE_DIMENSION, powertoolsFetcherMetrics } from './fetcher/powertools-metrics';
export { QueueAccessError, queueDepth } from './fetcher/queue-depth';
export {
  FETCHER_STEPS,
  type FetcherLogger,
  type FetcherMetrics,
  type FetcherRunSummary,
  type FetcherStep,
  type FetcherStepHook,
  PIPELINE_OUTCOME,
  type PipelineOutcome,
  type PipelineRunSummary,
  type RunNotifier,
} from './fetcher/types';
export * from './ingest';
export {
  ENVELOPE_VERSION,
  type Envelope,
  type EnvelopeEvent,
  type EventFailure,
  envelopeBody,
  MalformedMessageError,
  parseEnvelope,
  serializeEnvelopeEvent,
  storedEventOf,
} from './messages/envelope';
export {
  InvalidPipelineError,
  type PipelineDefinition,
  type PipelineStart,
  type ResolvedPipeline,
  resolvePipeline,
  startPosition,
} from './pipeline/definition';
export * from './retry';
export * from './sqs';
export * from './stages';
export {
  CheckpointConflictError,
  CheckpointInFutureError,
  CheckpointRegressionError,
  LeaseLostError,
  PipelineNotFoundError,
  SeekConflictError,
} from './state/errors';
export { PipelineStore, type PipelineStoreOptions } from './state/pipeline-store';
export {
  type Lease,
  PIPELINE_STATUS,
  type PipelineState,
  type PipelineStatus,
  RUN_STATUS,
  type RunCounts,
  type RunRecord,
  type RunStatus,
  type SeekRecord,
  type SendPlan,
} from './state/types';
export * from './sync';
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
  positionBeforeEvent,
  positionTimeMs,
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
export { type BackoffPolicy, backoffDelaySeconds, DEFAULT_BACKOFF, validateBackoff } from './worker/backoff';
export {
  createWorker,
  type Worker,
  type WorkerInvocationContext,
  type WorkerOptions,
} from './worker/create-worker';
export {
  DEFAULT_MARKER_RETENTION_SECONDS,
  MarkerStore,
  type MessageMarker,
  markerKey,
} from './worker/marker-store';
export { addBatchCounters, type PipelineCounters, readPipelineCounters } from './worker/pipeline-counters';
export { type BatchDependencies, processBatch } from './worker/process-batch';
export { queueUrlFromArn, type SqsEvent, type SqsRecord } from './worker/sqs-record';
export {
  type BatchHandler,
  type BatchOutcome,
  type BatchStats,
  type EventHandler,
  type HandlerContext,
  type ManualContext,
  type ManualHandler,
  type StandardSchema,
  WORKER_STEPS,
  type WorkerEvent,
  type WorkerStep,
  type WorkerStepHook,
} from './worker/types';
