import { describe, ValidationError } from '../errors';
import { MAX_RESERVE_EVENTS, MAX_RETRY_AFTER_SECONDS } from './constants';
import type { FailOptions, StopOptions } from './types';

// The checks of what `reserve()`, `acknowledge()`, `fail()` and `stop()` are given; the options of
// `PullConsumer.create()` are checked in options.ts.

const STOP_OPTION_KEYS: readonly string[] = ['drain', 'timeoutSeconds'] satisfies (keyof StopOptions)[];
const FAIL_OPTION_KEYS: readonly string[] = ['reason', 'retryAfterSeconds'] satisfies (keyof FailOptions)[];

/** Throws a `ValidationError` unless `maxEvents` is a whole number from 1 to `MAX_RESERVE_EVENTS`. */
export function checkReserveCount(maxEvents: number): void {
  if (!Number.isInteger(maxEvents) || maxEvents < 1 || maxEvents > MAX_RESERVE_EVENTS)
    throw new ValidationError(
      `reserve() takes a whole number of events from 1 to ${MAX_RESERVE_EVENTS} (given ${describeValue(maxEvents)})`,
      maxEvents,
    );
}

/** Throws a `ValidationError` unless `eventIds` is an array of strings. */
export function checkEventIds(eventIds: readonly string[], method: 'acknowledge' | 'fail'): void {
  if (!Array.isArray(eventIds) || eventIds.some((id) => typeof id !== 'string'))
    throw new ValidationError(
      `${method}() takes an array of event ids (given ${describe(eventIds)})`,
      eventIds,
    );
}

/** Every problem with the options of `fail()`, each naming the value given; empty when they are fine. */
export function failOptionProblems(options: FailOptions): string[] {
  return optionProblems(options, FAIL_OPTION_KEYS, ({ reason, retryAfterSeconds }) => {
    const problems: string[] = [];
    if (reason !== undefined && typeof reason !== 'string' && !(reason instanceof Error))
      problems.push(`reason must be a string or an Error (given ${describe(reason)})`);
    if (
      retryAfterSeconds !== undefined &&
      (!Number.isInteger(retryAfterSeconds) ||
        retryAfterSeconds < 0 ||
        retryAfterSeconds > MAX_RETRY_AFTER_SECONDS)
    )
      problems.push(
        `retryAfterSeconds must be a whole number from 0 to ${MAX_RETRY_AFTER_SECONDS} (given ${describeValue(retryAfterSeconds)})`,
      );
    return problems;
  });
}

/** Every problem with the options of `stop()`, each naming the value given; empty when they are fine. */
export function stopOptionProblems(options: StopOptions): string[] {
  return optionProblems(options, STOP_OPTION_KEYS, ({ drain, timeoutSeconds }) => {
    const problems: string[] = [];
    if (drain !== undefined && typeof drain !== 'boolean')
      problems.push(`drain must be true or false (given ${describe(drain)})`);
    if (
      timeoutSeconds !== undefined &&
      (typeof timeoutSeconds !== 'number' || !Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
    )
      problems.push(
        `timeoutSeconds must be a number of seconds more than 0 (given ${describeValue(timeoutSeconds)})`,
      );
    return problems;
  });
}

/**
 * The problems of an options argument: that it is not an object (and nothing more then), or its
 * unknown keys followed by what `valueProblems` finds in it.
 */
function optionProblems<T extends object>(
  options: T,
  known: readonly string[],
  valueProblems: (options: T) => string[],
): string[] {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    return [`options must be an object (given ${describe(options)})`];
  const problems: string[] = [];
  for (const key of Object.keys(options))
    if (!known.includes(key))
      problems.push(`unknown option ${JSON.stringify(key)} (known: ${known.join(', ')})`);
  return [...problems, ...valueProblems(options)];
}

function describeValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : describe(value);
}
