// The package's root entry (`sluice`): what a producer and a handler author write with. It pulls in
// no aws-cdk-lib, no emulator and no CLI, so a Lambda bundle of a worker stays small. Constructs are
// in `sluice/infra`, the local runtime in `sluice/local`, operator APIs (fetcher, backfills, seeks,
// redrives, failure listing) in `sluice/operations`, the sync toolkit in `sluice/sync`, and crash
// points and fault injection in `sluice/testing`. Everything else is internal: code inside this
// repository imports it from the module that defines it.

// Handling events: Lambda workers, failed-event handlers, pull consumers, stages.
export { ConsumerError, type ConsumerErrorCode } from './consumer/errors';
export { PullConsumer } from './consumer/pull-consumer';
export type {
  ConsumerStats,
  FailOptions,
  PullConsumerOptions,
  ReservedEvent,
  StopOptions,
  StopResult,
} from './consumer/types';
// Committing and reading events.
export {
  BatchCommitError,
  type BatchCommitOutcome,
  CommitError,
  CommitOutcomeUnknownError,
  type ConflictDetails,
  ConflictError,
  CorruptEventError,
  type DefinitionKind,
  InvalidDefinitionError,
  type LeaseLostDetails,
  LeaseLostError,
  MissingResourceError,
  type ResourceKind,
  SluiceError,
  type SluiceErrorCode,
  type StreamTimingValues,
  type TooLargeDetails,
  TooLargeError,
  type ValidationCode,
  ValidationError,
} from './errors';
export { EventLog } from './event-log/event-log';
export { EventLogWriter } from './event-log/event-log-writer';
export type { ReadAfterOptions, ReadAfterPage } from './event-log/event-source';
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
  createFailedEventFunction,
  type FailedEventFunctionOptions,
  type SqsBatchResponse,
  type SqsEventLike,
} from './failed/failed-event-function';
export type { FailedEvent, FailedHandler, FailedHandlerContext } from './failed/types';
export { type HttpJsonSourceOptions, httpJsonSource, type JsonRecord } from './ingest/http-json-source';
export { type IngestResult, type RunIngestOptions, runIngest } from './ingest/run-ingest';
export type { IngestEvent, IngestSource, SourcePage } from './ingest/types';
export type { PipelineDefinition, PipelineStart } from './pipeline/definition';
export { NonRetryableError, RetriesExhaustedError, RetryableError } from './retry/errors';
export { RETRY_PRESETS, type RetryPolicy, type RetryPresetName } from './retry/presets';
export { type WithRetryOptions, withRetry } from './retry/with-retry';
export { defineStages } from './stages/define-stages';
export { LaggingConsumerError } from './stages/errors';
export { createStageWorker, type StageWorkerOptions } from './stages/stage-worker';
export type { ResolvedStages, StageDefinition, StageHandler, StagesDefinition } from './stages/types';
export {
  type Position,
  parsePosition,
  positionAfterEvent,
  positionAtTime,
  positionBeforeEvent,
} from './time/position';
export type { BackoffPolicy } from './worker/backoff';
export {
  createWorker,
  type Worker,
  type WorkerInvocationContext,
  type WorkerOptions,
} from './worker/create-worker';
export type { SqsEvent, SqsRecord } from './worker/sqs-record';
export type {
  BatchHandler,
  BatchOutcome,
  BatchStats,
  EventHandler,
  HandlerContext,
  ManualContext,
  ManualHandler,
  StandardSchema,
  WorkerEvent,
} from './worker/types';
