export {
  type BusEvent,
  type BusRule,
  type DetailPattern,
  type EventBusStats,
  type EventPattern,
  LocalEventBus,
  type LocalEventBusOptions,
  MAX_EVENT_BYTES,
  MAX_PUT_EVENTS_ENTRIES,
  matchesPattern,
  type PatternValues,
  type PutEventsEntry,
} from './event-bus';
export type { ModuleExport } from './function-modules';
export {
  createLambdaContext,
  type LambdaContextOptions,
  type LambdaHandler,
  type LocalLambdaContext,
  MAX_FUNCTION_TIMEOUT_MS,
} from './lambda-context';
export type {
  LambdaSqsEvent,
  LambdaSqsMessageAttribute,
  LambdaSqsRecord,
} from './lambda-sqs-records';
export { startLocalPipeline } from './local-pipeline';
export { validateLocalPipelineOptions } from './local-pipeline-options';
export type {
  LocalEndpoints,
  LocalPipeline,
  LocalPipelineOptions,
  LocalPipelineResources,
  LocalPipelineStats,
} from './local-pipeline-types';
export { type LocalStages, type LocalStagesOptions, startLocalStages } from './local-stages';
export { INVOCATION_OUTCOME, settlePartialBatch } from './partial-batch-response';
export {
  FixedRateSchedule,
  type FixedRateScheduleOptions,
  rateToMilliseconds,
  type ScheduledEvent,
  type ScheduleStats,
} from './schedule';
export { SqsEventSourceMapping, type SqsEventSourceStats } from './sqs-event-source';
export {
  type InvocationResult,
  type SqsEventSourceMappingOptions,
  validateMappingOptions,
} from './sqs-event-source-options';
export {
  TableStreamSource,
  type TableStreamSourceOptions,
  type TableStreamSourceStats,
} from './table-stream-source';
export type { LocalWakeStats } from './wake-on-commit';
