/** The most entries one SendMessageBatch call may hold. */
export const MAX_BATCH_ENTRIES = 10;
/**
 * The most payload one SendMessageBatch call may carry: the sum of every entry's body and message
 * attributes, counted as {@link messagePayloadBytes} counts them (1 MiB).
 */
export const MAX_BATCH_PAYLOAD_BYTES = 1_048_576;
/** The largest message SQS accepts: body plus message attributes (1 MiB). */
export const MAX_MESSAGE_BYTES = 1_048_576;
/** SQS bills every started 64 KiB of a request's payload as one request. */
export const SQS_BILLING_CHUNK_BYTES = 65_536;
/** The longest delay SQS allows on one message, in seconds (15 minutes). */
export const MAX_DELAY_SECONDS = 900;
/** The longest visibility timeout SQS allows, in seconds (12 hours). */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
/** The most message attributes SQS allows on one message. */
export const MAX_MESSAGE_ATTRIBUTES = 10;

/** Defaults of `sendMessageBatches()` options. */
export const SEND_DEFAULTS = {
  maxAttempts: 5,
  initialDelayMs: 100,
  maxDelayMs: 2_000,
  throwOnFailure: false,
  callsInFlight: 1,
} as const;

/** Bounds of `sendMessageBatches()` options, inclusive. */
export const SEND_OPTION_LIMITS = {
  maxAttempts: { min: 1, max: 100 },
  initialDelayMs: { min: 0, max: 60_000 },
  maxDelayMs: { min: 0, max: 300_000 },
  callsInFlight: { min: 1, max: 10 },
} as const;

/**
 * Error names and codes of whole-call failures worth retrying: throttling, server-side faults and
 * network trouble. Matched against an error's `name`, `code` and `Code`.
 */
export const TRANSIENT_ERROR_CODES = [
  'ThrottlingException',
  'Throttling',
  'RequestThrottled',
  'AWS.SimpleQueueService.RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'KmsThrottled',
  'ServiceUnavailable',
  'AWS.SimpleQueueService.ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'NetworkingError',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
] as const;

/**
 * Error names and codes of whole-call failures that no retry can fix, even when the SDK marks them
 * retryable: the queue is missing or the request itself is wrong.
 */
export const PERMANENT_ERROR_CODES = [
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'InvalidParameterValue',
  'InvalidAddress',
  'InvalidSecurity',
  'AccessDenied',
  'AccessDeniedException',
  'UnsupportedOperation',
  'AWS.SimpleQueueService.UnsupportedOperation',
  'BatchRequestTooLong',
  'AWS.SimpleQueueService.BatchRequestTooLong',
  'TooManyEntriesInBatchRequest',
  'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  'BatchEntryIdsNotDistinct',
  'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  'InvalidBatchEntryId',
  'AWS.SimpleQueueService.InvalidBatchEntryId',
  'EmptyBatchRequest',
  'AWS.SimpleQueueService.EmptyBatchRequest',
] as const;
