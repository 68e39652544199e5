import { DEFAULT_MAX_REDELIVERY_COUNT } from '../settings/redelivery';

/**
 * What a stage does when its handler throws:
 * - `retry`: the event is retried with backoff up to `maxRedeliveryCount` times, then goes to the
 *   stage's failed handler (the worker's normal behaviour);
 * - `skip`: the event goes to the failed handler at once, and the stage carries on;
 * - `abort`: the stage's pipeline is halted (its fetcher stops feeding it, and the `EventStages`
 *   construct's alarm fires) and the error is rethrown, so the event is retried as under `retry`.
 *
 * @example
 * ```ts
 * const stage = { name: 'load', handle, onStageError: ON_STAGE_ERROR.abort };
 * ```
 */
export const ON_STAGE_ERROR = { retry: 'retry', skip: 'skip', abort: 'abort' } as const;
export type OnStageError = (typeof ON_STAGE_ERROR)[keyof typeof ON_STAGE_ERROR];

/** A stage's defaults, the worker's own. */
export const STAGE_DEFAULTS = {
  concurrency: 10,
  batchSize: 10,
  timeoutMs: 30_000,
  maxRedeliveryCount: DEFAULT_MAX_REDELIVERY_COUNT,
  bufferSize: 1_000,
  maxEventsPerMessage: 100,
  onStageError: ON_STAGE_ERROR.retry,
} as const;
