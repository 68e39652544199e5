import { DEFAULT_COMMIT_DEADLINE_MS, DEFAULT_SETTLE_WINDOW_MS } from '../event-log/constants';

/**
 * The fetcher's timing settings: each one's default and accepted range (inclusive, in milliseconds),
 * shared by the `Fetcher`'s options and its `SLUICE_*` variables. The settle window must exceed the
 * commit deadline of writers, which use the default.
 *
 * @example
 * ```ts
 * FETCHER_SETTINGS.leaseDurationMs.default; // 60000
 * ```
 */
export const FETCHER_SETTINGS = Object.freeze({
  leaseDurationMs: Object.freeze({ default: 60_000, min: 1_000, max: 3_600_000 }),
  pollIntervalMs: Object.freeze({ default: 1_000, min: 10, max: 60_000 }),
  settleWindowMs: Object.freeze({
    default: DEFAULT_SETTLE_WINDOW_MS,
    min: DEFAULT_COMMIT_DEADLINE_MS + 1,
    max: 3_600_000,
  }),
});
