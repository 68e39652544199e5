// `sluice/operations`: what an operator runs against deployed (or local) pipelines: the fetcher run
// by hand, pipeline state and seeks, backfills, redrives and the failure records. The `sluice` CLI is
// built on these.
export { type BackfillProgressOptions, backfillProgress } from '../backfill/progress';
export { type RegisterBackfillOptions, registerBackfill } from '../backfill/register';
export type {
  BackfillCompletedDetail,
  BackfillProgress,
  BackfillRequest,
  RegisteredBackfill,
} from '../backfill/types';
export { ConflictError, LeaseLostError, MissingResourceError } from '../errors';
export { FAILURE_STATUS, type FailureStatus } from '../failed/constants';
export {
  RedriveError,
  type RedriveFailuresProgress,
  type RedriveProgress,
  type RedriveStop,
} from '../failed/errors';
export { FailureStore, type FailureStoreOptions } from '../failed/failure-store';
export type {
  FailurePage,
  FailureRecord,
  ListRecordsOptions,
  MalformedPage,
  MalformedRecord,
} from '../failed/records';
export { type RedriveOptions, type RedriveResult, redriveDeadLetters } from '../failed/redrive';
export {
  type RedriveFailuresOptions,
  type RedriveFailuresResult,
  redriveFailures,
} from '../failed/redrive-failures';
export type { RedriveFilter } from '../failed/redrive-filter';
export { Fetcher, type FetcherOptions, type FetcherRunOptions } from '../fetcher/fetcher';
export { queueDepth } from '../fetcher/queue-depth';
export { DeliveryError, type DeliveryErrorCode } from '../fetcher/refused-events';
export {
  type FetcherLogger,
  type FetcherMetrics,
  type FetcherRunSummary,
  PIPELINE_OUTCOME,
  type PipelineOutcome,
  type PipelineRunSummary,
  type RunNotifier,
} from '../fetcher/types';
export { PipelineStore, type PipelineStoreOptions } from '../state/pipeline-store';
export {
  PIPELINE_STATUS,
  type PipelineState,
  type PipelineStatus,
  RUN_STATUS,
  type RunCounts,
  type RunRecord,
  type RunStatus,
  type SeekRecord,
} from '../state/types';
export { formatPosition, type Position, parsePosition, positionAtTime } from '../time/position';
