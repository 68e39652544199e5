/**
 * The names Sluice's functions publish their CloudWatch metrics under, shared by the code that
 * publishes them and the CDK constructs whose dashboards and alarms read them. A metric is found by
 * its namespace, its name and all its dimensions: `service` (the publishing function) and `pipeline`.
 *
 * @example
 * ```ts
 * new cloudwatch.Metric({
 *   namespace: METRICS_NAMESPACE,
 *   metricName: WORKER_METRICS.eventsHandled,
 *   dimensionsMap: { service: SERVICE_NAMES.worker, [PIPELINE_DIMENSION]: 'billing' },
 * });
 * ```
 */
export const METRICS_NAMESPACE = 'Sluice';

/** The dimension that names the pipeline on every per-pipeline metric. */
export const PIPELINE_DIMENSION = 'pipeline';

/** The dimension Powertools Metrics names the publishing service with. */
export const SERVICE_DIMENSION = 'service';

/** The `service` dimension of each of Sluice's functions. */
export const SERVICE_NAMES = {
  fetcher: 'sluice-fetcher',
  worker: 'sluice-worker',
  failed: 'sluice-failed',
  backfill: 'sluice-backfill',
  waker: 'sluice-waker',
} as const;

/** What the waker publishes per pipeline: each wake-up of its fetcher by a commit. */
export const WAKER_METRICS = {
  wakeups: 'Wakeups',
  /**
   * Commits the table's stream shows stored after the settle window had passed them: a pipeline
   * whose checkpoint was already past one skipped its events (see `docs/late-writes.md`).
   */
  lateCommits: 'LateCommits',
} as const;

/** What the fetcher publishes per pipeline and run (see `powertoolsFetcherMetrics`). */
export const FETCHER_METRICS = {
  eventsFetched: 'EventsFetched',
  eventsSent: 'EventsSent',
  /** Of the events sent, those sent before the settle window passed them (early delivery). */
  eventsSentAhead: 'EventsSentAhead',
  messagesSent: 'MessagesSent',
  bytesSent: 'BytesSent',
  pages: 'Pages',
  checkpoints: 'Checkpoints',
  lagMs: 'LagMs',
  runDurationMs: 'RunDurationMs',
  pipelineRunFailed: 'PipelineRunFailed',
  /** 1 when the run read events past the stream's retention (some may have been deleted unread), else 0. */
  expiredRanges: 'ExpiredRanges',
} as const;

/** What the worker publishes per pipeline and batch (see `createWorker`). */
export const WORKER_METRICS = {
  eventsHandled: 'EventsHandled',
  eventsFailed: 'EventsFailed',
  eventsDeadLettered: 'EventsDeadLettered',
  duplicatesSkipped: 'DuplicatesSkipped',
  eventsUnstarted: 'EventsUnstarted',
  malformedMessages: 'MalformedMessages',
  outputEventsCommitted: 'OutputEventsCommitted',
  /** Average, over a batch's succeeded events, of the time from commit to success (absent when none). */
  averageLatencyMs: 'AverageLatencyMs',
} as const;
