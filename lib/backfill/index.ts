export { backfillPipelineName, parseBackfillPipelineName } from '../pipeline/backfill-names';
export { announceCompletedBackfills } from './announce';
export {
  type CompletedBackfillsFilter,
  type EmitBackfillCompletedOptions,
  emitBackfillCompleted,
  emitCompletedBackfills,
} from './completion';
export { BACKFILL_EVENTS, BACKFILL_ID_PATTERN, BACKFILL_NAME_INFIX } from './constants';
export { type DeployedFetcherRuntime, deployedFetcherRuntime } from './deployed-runtime';
export { eventBridgePutEvents } from './eventbridge';
export {
  type BackfillHandlerDependencies,
  type BackfillRequestedEvent,
  handleBackfillRequested,
} from './handler';
export { type BackfillProgressOptions, backfillProgress } from './progress';
export { backfillDefinition, type RegisterBackfillOptions, registerBackfill } from './register';
export { backfillRange, boundPosition, parseBackfillRequest } from './request';
export {
  type RequestedBackfillDependencies,
  type RequestedBackfillOutcome,
  runRequestedBackfill,
} from './run-requested';
export type {
  BackfillBusEntry,
  BackfillCompletedDetail,
  BackfillProgress,
  BackfillRequest,
  PutBackfillEvents,
  RegisteredBackfill,
} from './types';
