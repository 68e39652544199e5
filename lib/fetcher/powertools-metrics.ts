import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { FETCHER_METRICS, PIPELINE_DIMENSION } from '../metrics/names';
import { type FetcherMetrics, PIPELINE_OUTCOME, type PipelineRunSummary } from './types';

export { PIPELINE_DIMENSION };

/**
 * Publishes each pipeline's run summary as CloudWatch metrics in the Embedded Metric Format, through
 * Powertools Metrics, with a `pipeline` dimension (besides the instance's default dimensions, such as
 * `service`):
 *
 * | Metric              | Unit         | Value                                  |
 * | ------------------- | ------------ | -------------------------------------- |
 * | `EventsFetched`     | Count        | events read from the log               |
 * | `EventsSent`        | Count        | events SQS accepted                    |
 * | `EventsSentAhead`   | Count        | of those, events sent before they settled (early delivery) |
 * | `MessagesSent`      | Count        | messages SQS accepted                  |
 * | `BytesSent`         | Bytes        | bytes of those messages                |
 * | `Pages`             | Count        | pages read                             |
 * | `Checkpoints`       | Count        | checkpoints written                    |
 * | `LagMs`             | Milliseconds | how far behind the log (when known)    |
 * | `RunDurationMs`     | Milliseconds | how long the pipeline was worked       |
 * | `PipelineRunFailed` | Count        | 1 when the run failed, else 0          |
 * | `ExpiredRanges`     | Count        | 1 when the run read events past the stream's retention (some may be lost), else 0 |
 *
 * The metrics are written at once, in the namespace of `metrics`; they do not wait for, or mix with,
 * what the handler buffers for `logMetrics` to flush.
 *
 * @example
 * ```ts
 * const metrics = new Metrics({ namespace: 'Sluice', serviceName: 'sluice-fetcher' });
 * const fetcher = new Fetcher({ store, source: eventLog, metrics: powertoolsFetcherMetrics(metrics) });
 * ```
 */
export function powertoolsFetcherMetrics(metrics: Metrics): FetcherMetrics {
  return {
    recordPipelineRun(summary: PipelineRunSummary): void {
      // One EMF document carries one set of dimension values for all its metrics, so a per-pipeline
      // dimension cannot share the handler's buffer. Powertools v2 offers `singleMetric()` for this:
      // a separate instance with the same namespace and default dimensions that writes each metric as
      // soon as it is added, leaving the handler's buffer untouched. A dimension added with
      // `addDimension()` is cleared by every such write, so the pipeline is made a default dimension of
      // that instance instead, which stays on all its metrics.
      const single = metrics.singleMetric();
      single.setDefaultDimensions({ [PIPELINE_DIMENSION]: summary.pipeline });
      const { counts } = summary;
      single.addMetric(FETCHER_METRICS.eventsFetched, MetricUnit.Count, counts.eventsRead);
      single.addMetric(FETCHER_METRICS.eventsSent, MetricUnit.Count, counts.eventsSent);
      single.addMetric(FETCHER_METRICS.eventsSentAhead, MetricUnit.Count, counts.eventsSentAhead ?? 0);
      single.addMetric(FETCHER_METRICS.messagesSent, MetricUnit.Count, counts.messagesSent);
      single.addMetric(FETCHER_METRICS.bytesSent, MetricUnit.Bytes, counts.bytesSent);
      single.addMetric(FETCHER_METRICS.pages, MetricUnit.Count, counts.pages);
      single.addMetric(FETCHER_METRICS.checkpoints, MetricUnit.Count, counts.checkpoints);
      if (summary.lagMs !== undefined)
        single.addMetric(FETCHER_METRICS.lagMs, MetricUnit.Milliseconds, summary.lagMs);
      single.addMetric(FETCHER_METRICS.runDurationMs, MetricUnit.Milliseconds, summary.durationMs);
      single.addMetric(
        FETCHER_METRICS.pipelineRunFailed,
        MetricUnit.Count,
        summary.outcome === PIPELINE_OUTCOME.failed ? 1 : 0,
      );
      single.addMetric(FETCHER_METRICS.expiredRanges, MetricUnit.Count, summary.expired ? 1 : 0);
    },
  };
}
