/**
 * How often, and how far apart, `withRetry` tries an operation. The wait before retry `n` (1 for the
 * first retry) is `min(maxDelayMs, initialDelayMs * backoffFactor ** (n - 1))`, before jitter.
 *
 * @example
 * ```ts
 * const policy: RetryPolicy = { maxAttempts: 6, initialDelayMs: 500, maxDelayMs: 8_000, backoffFactor: 2 };
 * await withRetry(() => callPartnerApi(order), { preset: policy });
 * ```
 */
export interface RetryPolicy {
  /** Attempts in all, the first included: an integer from 1 to 100. */
  readonly maxAttempts: number;
  /** The wait before the first retry, in milliseconds. */
  readonly initialDelayMs: number;
  /** The longest wait between two attempts, in milliseconds (a `Retry-After` may ask for more). */
  readonly maxDelayMs: number;
  /** What each wait is multiplied by to give the next: 1 or more. */
  readonly backoffFactor: number;
}

/**
 * Ready-made retry policies, by the kind of failure they suit.
 *
 * - `fast`: cheap calls expected to recover quickly: 3 attempts, 1 s doubling up to 5 s.
 * - `standard` (the default): most remote calls: 5 attempts, 2 s doubling up to 60 s.
 * - `rateLimit`: APIs that push back with 429s: 8 attempts, 5 s tripling up to 5 min.
 * - `dns`: names that are still propagating: 4 attempts, 10 s doubling up to 2 min.
 * - `verification`: waiting for something slow to become true (a certificate, a domain check):
 *   10 attempts, 30 s growing by half up to 10 min.
 * - `aws`: calls to AWS inside a Lambda invocation: 4 attempts, 100 ms doubling up to 2 s. The SDK
 *   already retries each request internally (3 attempts by default, with its own backoff), so this
 *   covers a call that failed as a whole after those, or failed in part (an entry of a
 *   SendMessageBatch or BatchWriteItem that came back unprocessed), and it keeps every wait short so
 *   the retries fit the invocation's time budget. Pair it with `deadlineMs`.
 *
 * @example
 * ```ts
 * await withRetry(() => sqs.send(new SendMessageBatchCommand(input)), {
 *   preset: 'aws',
 *   deadlineMs: Date.now() + context.getRemainingTimeInMillis() - 1_000,
 * });
 * RETRY_PRESETS.standard.maxAttempts; // 5
 * ```
 */
export const RETRY_PRESETS = Object.freeze({
  fast: Object.freeze({ maxAttempts: 3, initialDelayMs: 1_000, maxDelayMs: 5_000, backoffFactor: 2 }),
  standard: Object.freeze({ maxAttempts: 5, initialDelayMs: 2_000, maxDelayMs: 60_000, backoffFactor: 2 }),
  rateLimit: Object.freeze({ maxAttempts: 8, initialDelayMs: 5_000, maxDelayMs: 300_000, backoffFactor: 3 }),
  dns: Object.freeze({ maxAttempts: 4, initialDelayMs: 10_000, maxDelayMs: 120_000, backoffFactor: 2 }),
  verification: Object.freeze({
    maxAttempts: 10,
    initialDelayMs: 30_000,
    maxDelayMs: 600_000,
    backoffFactor: 1.5,
  }),
  aws: Object.freeze({ maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 2_000, backoffFactor: 2 }),
} as const satisfies Record<string, RetryPolicy>);

/**
 * The name of one of the `RETRY_PRESETS`.
 *
 * @example
 * ```ts
 * const preset: RetryPresetName = process.env.RETRY_PRESET === 'fast' ? 'fast' : 'standard';
 * ```
 */
export type RetryPresetName = keyof typeof RETRY_PRESETS;
