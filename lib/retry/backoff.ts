/** The growth of the waits between attempts: where they start, how fast they grow, where they stop. */
export interface ExponentialBackoff {
  /** The wait before the first retry. */
  readonly initial: number;
  /** What each wait is multiplied by to give the next: 1 or more. */
  readonly factor: number;
  /** The longest wait. */
  readonly max: number;
}

/**
 * The wait before retry `retry` (1 for the first), before any jitter or rounding:
 * `min(max, initial × factor ^ (retry − 1))`, in whatever unit `initial` and `max` are given. Every
 * backoff in the library (`withRetry`, `sendMessageBatches`, a worker's failed events) grows by it.
 *
 * @example
 * ```ts
 * exponentialDelay({ initial: 100, factor: 2, max: 2_000 }, 3); // 400
 * exponentialDelay({ initial: 100, factor: 2, max: 2_000 }, 9); // 2000
 * ```
 */
export function exponentialDelay(backoff: ExponentialBackoff, retry: number): number {
  return Math.min(backoff.max, backoff.initial * backoff.factor ** (retry - 1));
}
