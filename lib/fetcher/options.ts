import { describe, ValidationError } from '../errors';
import { FETCHER_SETTINGS } from '../settings/fetcher-settings';
import { isEventId } from '../time/event-id';
import type { FetcherOptions, FetcherRunOptions } from './fetcher';

// The checks of a fetcher's options and of a run's: each names the option, its bounds and the value
// given.

const { leaseDurationMs: LEASE, pollIntervalMs: POLL } = FETCHER_SETTINGS;

/** Throws a `ValidationError` naming every problem with a `Fetcher`'s options. */
export function checkFetcherOptions(options: FetcherOptions): void {
  const problems = [
    checkRange('leaseDurationMs', options.leaseDurationMs, LEASE.min, LEASE.max),
    checkRange('pollIntervalMs', options.pollIntervalMs, POLL.min, POLL.max),
    checkRange('idleCheckpointIntervalMs', options.idleCheckpointIntervalMs, 1_000, 3_600_000),
    checkRange('finalizeReserveMs', options.finalizeReserveMs, 0, 60_000),
    checkRange('maxPageBytes', options.maxPageBytes, 1_024, 1_073_741_824),
  ].filter((problem): problem is string => problem !== undefined);
  if (!options.store) problems.push('store is required');
  if (!options.source) problems.push('source is required');
  if (problems.length > 0)
    throw new ValidationError(`invalid Fetcher options: ${problems.join('; ')}`, options);
}

/** Throws a `ValidationError` for the first problem with the options of one `run()`. */
export function checkRunOptions(options: FetcherRunOptions): void {
  const { untilIdleMs, readThrough } = options;
  if (untilIdleMs !== undefined && !(Number.isFinite(untilIdleMs) && untilIdleMs >= 0))
    throw new ValidationError(
      `invalid Fetcher run options: untilIdleMs must be a number of milliseconds, 0 or more (given ${describe(untilIdleMs)})`,
      options,
    );
  if (readThrough !== undefined && !isEventId(readThrough))
    throw new ValidationError(
      `invalid Fetcher run options: readThrough must be an event id (given ${describe(readThrough)})`,
      options,
    );
}

function checkRange(name: string, value: number | undefined, min: number, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max)
    return `${name} must be a whole number from ${min} to ${max} (given ${describe(value)})`;
  return undefined;
}
