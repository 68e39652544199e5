import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { PIPELINE_DIMENSION, SERVICE_NAMES, WORKER_METRICS } from '../metrics/names';
import type { BatchStats } from './types';

/**
 * Adds one batch's counts to a Powertools Metrics instance's buffer; its `logMetrics` middleware, or
 * a call of `publishStoredMetrics()`, writes them.
 *
 * @example
 * ```ts
 * addWorkerBatchMetrics(metrics, outcome.stats);
 * ```
 */
export function addWorkerBatchMetrics(metrics: Metrics, stats: BatchStats): void {
  metrics.addMetric(WORKER_METRICS.eventsHandled, MetricUnit.Count, stats.succeeded);
  metrics.addMetric(WORKER_METRICS.eventsFailed, MetricUnit.Count, stats.failed);
  metrics.addMetric(WORKER_METRICS.eventsDeadLettered, MetricUnit.Count, stats.deadLettered);
  metrics.addMetric(WORKER_METRICS.duplicatesSkipped, MetricUnit.Count, stats.duplicatesSkipped);
  metrics.addMetric(WORKER_METRICS.eventsUnstarted, MetricUnit.Count, stats.unstarted);
  metrics.addMetric(WORKER_METRICS.malformedMessages, MetricUnit.Count, stats.malformed);
  metrics.addMetric(WORKER_METRICS.outputEventsCommitted, MetricUnit.Count, stats.outputEvents);
  if (stats.succeeded > 0)
    metrics.addMetric(
      WORKER_METRICS.averageLatencyMs,
      MetricUnit.Milliseconds,
      Math.round(stats.latencyMsTotal / stats.succeeded),
    );
}

/**
 * The metrics the `EventPipeline` construct's dashboard and alarms read: one Embedded Metric Format
 * document per batch, in `namespace`, with the dimensions `service` (`sluice-worker`) and `pipeline`,
 * written at once rather than buffered for the handler's middleware.
 *
 * @example
 * ```ts
 * const publish = pipelineBatchMetrics('Sluice', 'billing');
 * publish(outcome.stats);
 * ```
 */
export function pipelineBatchMetrics(namespace: string, pipeline: string): (stats: BatchStats) => void {
  const metrics = new Metrics({
    namespace,
    serviceName: SERVICE_NAMES.worker,
    defaultDimensions: { [PIPELINE_DIMENSION]: pipeline },
  });
  return (stats) => {
    addWorkerBatchMetrics(metrics, stats);
    metrics.publishStoredMetrics();
  };
}
