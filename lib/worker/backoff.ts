import { describe, ValidationError } from '../errors';
import { exponentialDelay } from '../retry/backoff';
import { MAX_DELAY_SECONDS } from '../sqs/constants';

/** How long a failed event waits before its next attempt. */
export interface BackoffPolicy {
  /** The wait after the first failure. @default 2 */
  readonly baseDelaySeconds?: number;
  /** The longest wait. At most 900 (SQS's longest message delay). @default 300 */
  readonly maxDelaySeconds?: number;
  /** Each further failure multiplies the wait by this. @default 2 */
  readonly factor?: number;
  /** Spread waits at random between half and all of their length, so retries do not arrive together. @default true */
  readonly jitter?: boolean;
}

/** The default backoff: 2 s, 4 s, 8 s, ... up to 5 minutes, with jitter. */
export const DEFAULT_BACKOFF: Required<BackoffPolicy> = Object.freeze({
  baseDelaySeconds: 2,
  maxDelaySeconds: 300,
  factor: 2,
  jitter: true,
});

/**
 * Every problem with a backoff policy, each naming the value given; empty when it is fine.
 *
 * @example
 * ```ts
 * validateBackoff({ baseDelaySeconds: 0 }); // ['backoff.baseDelaySeconds must be ... (given 0)']
 * ```
 */
export function validateBackoff(policy: BackoffPolicy, where = 'backoff'): string[] {
  const problems: string[] = [];
  const { baseDelaySeconds, maxDelaySeconds, factor, jitter } = policy;
  if (
    baseDelaySeconds !== undefined &&
    (!Number.isInteger(baseDelaySeconds) || baseDelaySeconds < 1 || baseDelaySeconds > MAX_DELAY_SECONDS)
  ) {
    problems.push(
      `${where}.baseDelaySeconds must be a whole number from 1 to ${MAX_DELAY_SECONDS} (given ${describe(baseDelaySeconds)})`,
    );
  }
  if (
    maxDelaySeconds !== undefined &&
    (!Number.isInteger(maxDelaySeconds) || maxDelaySeconds < 1 || maxDelaySeconds > MAX_DELAY_SECONDS)
  ) {
    problems.push(
      `${where}.maxDelaySeconds must be a whole number from 1 to ${MAX_DELAY_SECONDS} (given ${describe(maxDelaySeconds)})`,
    );
  }
  if (
    (baseDelaySeconds ?? DEFAULT_BACKOFF.baseDelaySeconds) >
    (maxDelaySeconds ?? DEFAULT_BACKOFF.maxDelaySeconds)
  ) {
    problems.push(
      `${where}.baseDelaySeconds (${baseDelaySeconds ?? DEFAULT_BACKOFF.baseDelaySeconds}) must not exceed maxDelaySeconds (${maxDelaySeconds ?? DEFAULT_BACKOFF.maxDelaySeconds})`,
    );
  }
  if (factor !== undefined && (typeof factor !== 'number' || !(factor >= 1) || factor > 10)) {
    problems.push(`${where}.factor must be a number from 1 to 10 (given ${describe(factor)})`);
  }
  if (jitter !== undefined && typeof jitter !== 'boolean')
    problems.push(`${where}.jitter must be true or false (given ${describe(jitter)})`);
  return problems;
}

/**
 * Seconds to wait before attempt `failures + 1`, after `failures` failed attempts (1 or more):
 * `base × factor^(failures − 1)`, capped, then with jitter between half and all of it.
 *
 * @example
 * ```ts
 * backoffDelaySeconds(3, { jitter: false }); // 8
 * ```
 */
export function backoffDelaySeconds(
  failures: number,
  policy: BackoffPolicy = {},
  random: () => number = Math.random,
): number {
  const problems = validateBackoff(policy);
  if (problems.length > 0) throw new ValidationError(`invalid backoff: ${problems.join('; ')}`, policy);
  if (!Number.isInteger(failures) || failures < 1) {
    throw new ValidationError(
      `failures must be a whole number of at least 1 (given ${describe(failures)})`,
      failures,
    );
  }
  const { baseDelaySeconds, maxDelaySeconds, factor, jitter } = { ...DEFAULT_BACKOFF, ...policy };
  const full = exponentialDelay({ initial: baseDelaySeconds, factor, max: maxDelaySeconds }, failures);
  if (!jitter) return Math.round(full);
  return Math.max(1, Math.round(full / 2 + (random() * full) / 2));
}
