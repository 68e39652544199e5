import { describe, ValidationError } from '../errors';

/** Attempts an event gets before it goes to the failed handler, when nothing says otherwise. */
export const DEFAULT_MAX_REDELIVERY_COUNT = 5;

/** SQS's largest `maxReceiveCount` in a queue's redrive policy. */
export const SQS_MAX_RECEIVE_COUNT_LIMIT = 1_000;

/** The largest batch a Lambda event source takes from a FIFO queue. */
export const MAX_FIFO_BATCH_SIZE = 10;

/** The extra receives the queue allows above the worker's own count (see {@link maxReceiveCountFor}). */
const RECEIVE_MARGIN = 5;

/**
 * The accepted `maxRedeliveryCount`, inclusive, everywhere one is given: the worker, its
 * `SLUICE_MAX_REDELIVERY_COUNT`, the `EventPipeline` construct, stages, the pull consumer and the
 * local runtime. The maximum is the largest count whose queue redrive {@link maxReceiveCountFor}
 * stays within SQS's limit of 1,000 on every queue: a FIFO pipeline with batches of 10 needs
 * `10 × n + 5 ≤ 1000`, so n is at most 99.
 */
export const MAX_REDELIVERY_COUNT_RANGE = Object.freeze({
  min: 1,
  max: Math.floor((SQS_MAX_RECEIVE_COUNT_LIMIT - RECEIVE_MARGIN) / MAX_FIFO_BATCH_SIZE),
});

/**
 * What is wrong with a `maxRedeliveryCount`, named `name` in the message, or `undefined` when it is
 * a whole number in {@link MAX_REDELIVERY_COUNT_RANGE} (or left out).
 *
 * @example
 * ```ts
 * maxRedeliveryCountProblem('maxRedeliveryCount', 150);
 * // 'maxRedeliveryCount must be a whole number from 1 to 99 (given 150)'
 * ```
 */
export function maxRedeliveryCountProblem(name: string, value: unknown): string | undefined {
  const { min, max } = MAX_REDELIVERY_COUNT_RANGE;
  if (value === undefined) return undefined;
  if (Number.isInteger(value) && (value as number) >= min && (value as number) <= max) return undefined;
  return `${name} must be a whole number from ${min} to ${max} (given ${describe(value)})`;
}

/**
 * The queue's `maxReceiveCount` for a given `maxRedeliveryCount`, in the deployed pipeline and the
 * local runtime alike. The worker counts each event's attempts itself and moves an event out of
 * attempts to the DLQ with its last error; the queue's redrive is only the safety net for messages
 * that never reach the worker's count (a function that times out or crashes on every delivery), so it
 * sits well above: deliveries in which an event does not start (a deadline, a FIFO group stopped
 * early) do not spend its attempts but do count here.
 *
 * On a FIFO queue a Lambda batch holds up to `fifoBatchSize` messages of one group, and while the
 * first of them is retried the ones behind it come back with it, untried, every time: a message can
 * wait out the attempts of the `fifoBatchSize - 1` messages ahead of it before its own. So its
 * count is `max(2, fifoBatchSize) × maxRedeliveryCount + 5`; a standard queue passes 1. Within
 * {@link MAX_REDELIVERY_COUNT_RANGE} and batches of at most 10 it never exceeds SQS's 1,000.
 *
 * @throws `ValidationError` when `maxRedeliveryCount` is outside {@link MAX_REDELIVERY_COUNT_RANGE}
 * or `fifoBatchSize` is not a whole number from 1 to 10.
 *
 * @example
 * ```ts
 * maxReceiveCountFor(5); // 15
 * maxReceiveCountFor(5, 10); // 55: a FIFO pipeline with batches of 10
 * ```
 */
export function maxReceiveCountFor(maxRedeliveryCount: number, fifoBatchSize = 1): number {
  const problems = [maxRedeliveryCountProblem('maxRedeliveryCount', maxRedeliveryCount)];
  if (!Number.isInteger(fifoBatchSize) || fifoBatchSize < 1 || fifoBatchSize > MAX_FIFO_BATCH_SIZE)
    problems.push(
      `fifoBatchSize must be a whole number from 1 to ${MAX_FIFO_BATCH_SIZE} (given ${describe(fifoBatchSize)})`,
    );
  const found = problems.filter((problem) => problem !== undefined);
  if (found.length > 0)
    throw new ValidationError(`no maxReceiveCount for these settings: ${found.join('; ')}`, {
      maxRedeliveryCount,
      fifoBatchSize,
    });
  return Math.max(2, fifoBatchSize) * maxRedeliveryCount + RECEIVE_MARGIN;
}
