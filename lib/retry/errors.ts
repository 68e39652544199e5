import { describe, SluiceError, ValidationError } from '../errors';

/**
 * Thrown by an operation to ask `withRetry` for another attempt, whatever the underlying failure.
 * `retryAfterMs`, when given, is the least time to wait before the next attempt (a server's
 * `Retry-After`, say), even above the policy's `maxDelayMs`; when that wait would run past the
 * `deadlineMs` given to `withRetry`, it gives up at once instead.
 *
 * @example
 * ```ts
 * await withRetry(async () => {
 *   const response = await fetch(url);
 *   if (response.status === 429) {
 *     const seconds = Number(response.headers.get('retry-after') ?? '1');
 *     throw new RetryableError(`rate limited by ${url}`, { retryAfterMs: seconds * 1000 });
 *   }
 *   return response.json();
 * });
 * ```
 */
export class RetryableError extends SluiceError {
  declare readonly code: 'retryable';
  /** The least time to wait before the next attempt, in milliseconds, when the failure said so. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, { cause: options?.cause, code: 'retryable' });
    this.name = 'RetryableError';
    const retryAfterMs = options?.retryAfterMs;
    if (retryAfterMs !== undefined && !(Number.isFinite(retryAfterMs) && retryAfterMs >= 0)) {
      throw new ValidationError(
        `retryAfterMs must be a finite number of milliseconds, 0 or more (given ${String(retryAfterMs)})`,
        retryAfterMs,
      );
    }
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Thrown by an operation to make `withRetry` stop at once: it is rethrown as it is, unwrapped, even
 * when a custom `shouldRetry` would have retried it.
 *
 * @example
 * ```ts
 * await withRetry(async () => {
 *   const response = await fetch(url);
 *   if (response.status === 404) throw new NonRetryableError(`no such order at ${url}`);
 *   if (!response.ok) throw new RetryableError(`${url} answered ${response.status}`);
 *   return response.json();
 * });
 * ```
 */
export class NonRetryableError extends SluiceError {
  declare readonly code: 'non-retryable' | 'http-status';

  constructor(message: string, options?: { cause?: unknown; code?: 'non-retryable' | 'http-status' }) {
    super(message, { cause: options?.cause, code: options?.code ?? 'non-retryable' });
    this.name = 'NonRetryableError';
  }
}

/** Why `withRetry` gave up: every attempt was used, or the next one could not start before the deadline. */
export type RetriesExhaustedReason = 'attempts' | 'deadline';

/** What `withRetry` knew when it gave up, for the `RetriesExhaustedError` that reports it. */
export interface RetriesExhaustedDetails {
  /** The name of the operation, when `withRetry` was given one. */
  name?: string | undefined;
  attempts: number;
  lastError: unknown;
  reason: RetriesExhaustedReason;
  /** For a deadline: the wait before the next attempt, in milliseconds. */
  delayMs?: number;
  /** For a deadline: the time left before it when `withRetry` gave up (negative once past). */
  remainingMs?: number;
}

/**
 * Thrown by `withRetry` when it gives up on an operation whose failures were all worth retrying: its
 * attempts ran out, or its deadline left no room for another. The last failure is `lastError`, and
 * also the `cause`.
 *
 * @example
 * ```ts
 * try {
 *   await withRetry(() => sqs.send(command), { name: 'send batch', preset: 'aws' });
 * } catch (error) {
 *   if (error instanceof RetriesExhaustedError) {
 *     logger.error('gave up', { attempts: error.attempts, reason: error.reason, cause: error.lastError });
 *   }
 *   throw error;
 * }
 * ```
 */
export class RetriesExhaustedError extends SluiceError {
  declare readonly code: 'retries-exhausted';
  /** The name of the operation, when `withRetry` was given one. */
  readonly operationName: string | undefined;
  /** How many attempts were made (0 when the deadline had passed before the first). */
  readonly attempts: number;
  /** The error the last attempt failed with (undefined when no attempt was made). */
  readonly lastError: unknown;
  /** Whether the attempts ran out or the deadline stopped the next one. */
  readonly reason: RetriesExhaustedReason;

  constructor(details: RetriesExhaustedDetails) {
    super(exhaustedMessage(details), {
      cause: details.attempts === 0 ? undefined : details.lastError,
      code: 'retries-exhausted',
    });
    this.name = 'RetriesExhaustedError';
    this.operationName = details.name;
    this.attempts = details.attempts;
    this.lastError = details.lastError;
    this.reason = details.reason;
  }
}

function exhaustedMessage(details: RetriesExhaustedDetails): string {
  const operation = details.name === undefined ? 'operation' : `operation '${details.name}'`;
  const remainingMs = details.remainingMs ?? 0;
  if (details.attempts === 0) {
    return `${operation} was not attempted: its deadline had passed ${-remainingMs} ms before the first attempt`;
  }
  const attempts = `${details.attempts} attempt${details.attempts === 1 ? '' : 's'}`;
  const last = `last error: ${messageOf(details.lastError)}`;
  if (details.reason === 'deadline') {
    return `${operation} gave up after ${attempts}: the deadline stopped it, as the next attempt was due in ${details.delayMs ?? 0} ms with ${Math.max(0, remainingMs)} ms left (${last})`;
  }
  return `${operation} failed after ${attempts} (${last})`;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return describe(error);
}
