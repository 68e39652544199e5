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
export {
  type LocalEndpoints,
  type LocalPipeline,
  type LocalPipelineOptions,
  type LocalPipelineResources,
  type LocalPipelineStats,
  type LocalWakeStats,
  type ModuleExport,
  startLocalPipeline,
  validateLocalPipelineOptions,
} from './local-pipeline';
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
