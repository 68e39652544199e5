import { describe, ValidationError } from '../errors';

/** An inclusive range of milliseconds. */
export interface MillisecondsRange {
  readonly min: number;
  readonly max: number;
}

/**
 * What is wrong with `value` as a whole number of milliseconds within `range`, naming it `name`, or
 * `undefined` when nothing is.
 *
 * @example
 * ```ts
 * wholeMillisecondsProblem('lease duration', 500, { min: 1_000, max: 3_600_000 });
 * // 'lease duration must be a whole number of milliseconds from 1000 to 3600000 (given 500)'
 * ```
 */
export function wholeMillisecondsProblem(
  name: string,
  value: unknown,
  range: MillisecondsRange,
): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= range.min && value <= range.max)
    return undefined;
  return `${name} must be a whole number of milliseconds from ${range.min} to ${range.max} (given ${describe(value)})`;
}

/**
 * Throws a `ValidationError` with {@link wholeMillisecondsProblem}'s words unless `value` is a whole
 * number of milliseconds within `range`.
 *
 * @example
 * ```ts
 * assertWholeMilliseconds('claim duration', durationMs, CLAIM_DURATION_RANGE);
 * ```
 */
export function assertWholeMilliseconds(
  name: string,
  value: unknown,
  range: MillisecondsRange,
): asserts value is number {
  const problem = wholeMillisecondsProblem(name, value, range);
  if (problem !== undefined) throw new ValidationError(problem, value);
}
