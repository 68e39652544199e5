import { describe, type StreamTimingValues } from '../errors';

/**
 * How a pipeline's fetcher learns of new events: the trade between commit-to-handler latency, idle
 * cost and what writers' clocks must satisfy. `EventPipeline` takes it as `latency`, and the local
 * runtime the same way, from {@link LATENCY_PROFILES}.
 *
 * @example
 * ```ts
 * new EventPipeline(this, 'Billing', { eventLog, stream: 'orders', entry, latency: PIPELINE_LATENCY.low });
 * ```
 */
export const PIPELINE_LATENCY = Object.freeze({
  balanced: 'balanced',
  low: 'low',
  economy: 'economy',
} as const);
export type PipelineLatency = (typeof PIPELINE_LATENCY)[keyof typeof PIPELINE_LATENCY];

/** What one `latency` setting turns on. */
export interface LatencyProfile {
  /** Whether commits wake the fetcher through the log table's stream. */
  readonly wakesOnCommit: boolean;
  /**
   * The timing declared for the pipeline's stream, stored with the stream before its first commit;
   * absent: the stream's own (the defaults, 1,500 ms and 1,000 ms, unless declared otherwise).
   */
  readonly streamTiming?: StreamTimingValues;
  /** How often the fetcher reads the live edge once caught up; absent: the fetcher's default (1 s). */
  readonly pollIntervalMs?: number;
}

/**
 * The stream timing of `latency: 'low'`: a 300 ms settle window and a 200 ms commit deadline, so a
 * commit must be acknowledged within 200 ms of taking its ids, and the 100 ms between them is the
 * whole room for the uncertainty of the clocks (held to DynamoDB's, see `docs/late-writes.md`).
 */
export const LOW_LATENCY_STREAM_TIMING: StreamTimingValues = Object.freeze({
  settleWindowMs: 300,
  commitDeadlineMs: 200,
});

/**
 * What each `latency` setting turns on, shared by `EventPipeline`, the local runtime and the bench.
 *
 * @example
 * ```ts
 * LATENCY_PROFILES.low.streamTiming?.settleWindowMs; // 300
 * ```
 */
export const LATENCY_PROFILES: Readonly<Record<PipelineLatency, LatencyProfile>> = Object.freeze({
  // Early delivery sends an event at the holder's next read of the live edge: every 500 ms, so that
  // an event committed while a run tails waits about 250 ms for it.
  balanced: Object.freeze({ wakesOnCommit: true, pollIntervalMs: 500 }),
  low: Object.freeze({ wakesOnCommit: true, streamTiming: LOW_LATENCY_STREAM_TIMING, pollIntervalMs: 200 }),
  economy: Object.freeze({ wakesOnCommit: false }),
});

/**
 * The problem with a `latency` value, naming it; undefined when it is one of {@link PIPELINE_LATENCY}.
 *
 * @example
 * ```ts
 * latencyProblem('fast'); // 'latency must be \'balanced\', \'low\' or \'economy\' (given "fast")'
 * ```
 */
export function latencyProblem(latency: unknown): string | undefined {
  if (typeof latency === 'string' && Object.hasOwn(LATENCY_PROFILES, latency)) return undefined;
  return `latency must be 'balanced', 'low' or 'economy' (given ${describe(latency)})`;
}
