export { MAX_VISIBILITY_TIMEOUT_SECONDS } from '../sqs/constants';
export { FETCHER_SETTINGS } from './fetcher-settings';
export {
  type Environment,
  matching,
  milliseconds,
  readVariable,
  satisfying,
  tableName,
  type VariableRule,
  wholeNumber,
} from './read-variable';
export {
  DEFAULT_MAX_REDELIVERY_COUNT,
  MAX_FIFO_BATCH_SIZE,
  MAX_REDELIVERY_COUNT_RANGE,
  maxReceiveCountFor,
  maxRedeliveryCountProblem,
  SQS_MAX_RECEIVE_COUNT_LIMIT,
} from './redelivery';
export {
  FAILED_EVENT_ENVIRONMENT,
  FETCHER_ENVIRONMENT,
  INGEST_ENVIRONMENT,
  SLUICE_VARIABLES,
  type SluiceVariable,
  WORKER_ENVIRONMENT,
} from './variables';
export { VISIBILITY_TIMEOUT_FACTOR, visibilityTimeoutSecondsFor } from './visibility';
