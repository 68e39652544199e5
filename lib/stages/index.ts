export { ON_STAGE_ERROR, type OnStageError, STAGE_DEFAULTS } from './constants';
export { guardedCommit, type SlowestConsumer, slowestConsumer } from './consumer-lag';
export { defineStages, stageOf } from './define-stages';
export { LaggingConsumerError } from './errors';
export { stagePipelineName, stageStreamName } from './names';
export { type StageHandlerDependencies, stageEventHandler } from './stage-handler';
export { createStageWorker, type StageWorkerOptions } from './stage-worker';
export type { ResolvedStage, ResolvedStages, StageDefinition, StageHandler, StagesDefinition } from './types';
