import { MAX_VISIBILITY_TIMEOUT_SECONDS } from '../sqs/constants';

/**
 * A queue's visibility timeout is this many times the timeout of the function that consumes it, as
 * AWS advises for a Lambda SQS event source: a message does not come back while it is still handled,
 * even when the function is retried after throttling.
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/**
 * The visibility timeout, in seconds, of a queue whose consumer times out after `timeoutSeconds`:
 * {@link VISIBILITY_TIMEOUT_FACTOR} times it, at most SQS's 12 hours.
 *
 * @example
 * ```ts
 * visibilityTimeoutSecondsFor(30); // 180
 * ```
 */
export function visibilityTimeoutSecondsFor(timeoutSeconds: number): number {
  return Math.min(MAX_VISIBILITY_TIMEOUT_SECONDS, VISIBILITY_TIMEOUT_FACTOR * timeoutSeconds);
}
