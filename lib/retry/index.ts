export {
  NonRetryableError,
  RetriesExhaustedError,
  type RetriesExhaustedReason,
  RetryableError,
} from './errors';
export { isTransientError, retryAfterMsOf } from './is-transient';
export { RETRY_PRESETS, type RetryPolicy, type RetryPresetName } from './presets';
export { parseRetryAfter } from './retry-after';
export {
  type RetryAttempt,
  type RetryInfo,
  type RetryJitter,
  type WithRetryOptions,
  withRetry,
} from './with-retry';
