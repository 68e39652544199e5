import { SluiceError } from '../errors';
import { NonRetryableError, RetryableError } from './errors';
import { parseRetryAfter } from './retry-after';

/** Error names AWS services use for throttling (the AWS SDK's own list, as of v3). */
const THROTTLING_ERROR_NAMES: ReadonlySet<string> = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

/** Error names for a request that timed out. */
const TIMEOUT_ERROR_NAMES: ReadonlySet<string> = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** Node.js and undici (`fetch`) error codes for a connection that failed or dropped. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** How deep `isTransientError` follows `cause` links of wrapping errors (`fetch failed` and the like). */
const MAX_CAUSE_DEPTH = 5;

/** The fields AWS SDK v3 sets on the errors it throws, all optional here. */
interface SdkErrorFields {
  name?: unknown;
  code?: unknown;
  cause?: unknown;
  $fault?: unknown;
  $retryable?: { throttling?: unknown } | undefined;
  $metadata?: { httpStatusCode?: unknown } | undefined;
  $response?: { headers?: Record<string, unknown> | undefined } | undefined;
}

/**
 * Whether a failure is worth another attempt: the default `shouldRetry` of `withRetry`.
 *
 * True for a `RetryableError`; for AWS SDK v3 errors that are throttling (by name, by
 * `$retryable.throttling`, or by HTTP status 429), server faults (`$fault: 'server'` or an HTTP status
 * of 500 or more), or marked `$retryable` by the SDK; for timeouts (`TimeoutError`, `RequestTimeout`);
 * and for network failures (`ECONNRESET`, `ECONNREFUSED`, `EPIPE`, `ETIMEDOUT`, `EAI_AGAIN` and their
 * kin, also when wrapped as the `cause` of another error, as `fetch` does).
 *
 * False for a `NonRetryableError`, for client faults that are not throttling (validation, access
 * denied, conditional check failed), for `AbortError` (usually the caller's own cancellation), for
 * other Sluice errors, and for anything else it does not recognise.
 *
 * @example
 * ```ts
 * try {
 *   await dynamodb.send(command);
 * } catch (error) {
 *   if (!isTransientError(error)) throw error; // a bug or bad input: retrying will not help
 *   await requeue(command);
 * }
 * ```
 */
export function isTransientError(error: unknown): boolean {
  return isTransientAt(error, 0);
}

function isTransientAt(error: unknown, depth: number): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (error instanceof NonRetryableError) return false;
  if (error instanceof RetryableError) return true;
  const fields = error as SdkErrorFields;
  if (fields.name === 'AbortError') return false;
  if (isThrottling(fields)) return true;
  if (fields.$retryable !== undefined && fields.$retryable !== null) return true;
  if (fields.$fault === 'server') return true;
  const status = fields.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500 && status <= 599) return true;
  if (typeof fields.name === 'string' && TIMEOUT_ERROR_NAMES.has(fields.name)) return true;
  if (typeof fields.code === 'string' && NETWORK_ERROR_CODES.has(fields.code)) return true;
  if (fields.$fault === 'client') return false;
  // Sluice's own errors say what they mean; a wrapped cause does not make them worth retrying.
  if (error instanceof SluiceError) return false;
  return depth < MAX_CAUSE_DEPTH && fields.cause !== undefined && isTransientAt(fields.cause, depth + 1);
}

function isThrottling(fields: SdkErrorFields): boolean {
  return (
    (typeof fields.name === 'string' && THROTTLING_ERROR_NAMES.has(fields.name)) ||
    fields.$retryable?.throttling === true ||
    fields.$metadata?.httpStatusCode === 429
  );
}

/**
 * The least wait, in milliseconds, that a failure asks for before the next attempt: a
 * `RetryableError`'s `retryAfterMs`, or else the `Retry-After` header (delay-seconds or an HTTP date)
 * of the HTTP response an AWS SDK v3 error carries in `$response`. Undefined when it asks for none, or
 * the header is malformed. A date in the past gives 0.
 *
 * @param now - the current time in milliseconds since the epoch, to measure an HTTP date against.
 * @example
 * ```ts
 * retryAfterMsOf(new RetryableError('busy', { retryAfterMs: 2_500 })); // 2500
 * retryAfterMsOf(sdkError); // 7000 when the response carried `Retry-After: 7`
 * retryAfterMsOf(new Error('boom')); // undefined
 * ```
 */
export function retryAfterMsOf(error: unknown, now: number = Date.now()): number | undefined {
  if (error instanceof RetryableError) return error.retryAfterMs;
  if (typeof error !== 'object' || error === null) return undefined;
  const headers = (error as SdkErrorFields).$response?.headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === 'retry-after');
  const value = entry?.[1];
  return typeof value === 'string' ? parseRetryAfter(value, now) : undefined;
}
