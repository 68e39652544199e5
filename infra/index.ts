export { EventLog, type EventLogGrantOptions, type EventLogProps, type WakeOnCommitRoute } from './event-log';
export {
  EventPipeline,
  type EventPipelineProps,
  maxReceiveCountFor,
  PIPELINE_LATENCY,
  type PipelineLatency,
  sluiceEventBus,
  VISIBILITY_TIMEOUT_FACTOR,
} from './event-pipeline';
export { type EventStageProps, EventStages, type EventStagesProps } from './event-stages';
export { SluiceGuardrails } from './guardrails';
export { IngestFunction, type IngestFunctionProps } from './ingest';
export {
  PipelineMonitoring,
  type PipelineMonitoringProps,
  type PipelineMonitoringThresholds,
} from './pipeline-monitoring';
export { SLUICE_RUNTIME, SluiceFunction, type SluiceFunctionProps } from './sluice-function';
export { PipelineStateTable, type PipelineStateTableProps, STATE_TABLE_ACTIONS } from './state-table';
