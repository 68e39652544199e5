import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type FetcherMetrics, PIPELINE_OUTCOME, type PipelineRunSummary } from './types';

/** The dimension that names the pipeline on every metric {@link powertoolsFetcherMetrics} publishes. */
export const PIPELINE_DIMENSION = 'pipeline';

/**
 * Publishes each pipeline's run summary as CloudWatch metrics in the Embedded Metric Format, through
 * Powertools Metrics, with a `pipeline` dimension (besides the instance's default dimensions, such as
 * `service`):
 *
 * | Metric              | Unit         | Value                                  |
 * | ------------------- | ------------ | -------------------------------------- |
 * | `EventsFetched`     | Count        | events read from the log               |
 * | `EventsSent`        | Count        | events SQS accepted                    |
 * | `MessagesSent`      | Count        | messages SQS accepted                  |
 * | `BytesSent`         | Bytes        | bytes of those messages                |
 * | `Pages`             | Count        | pages read                             |
 * | `Checkpoints`       | Count        | checkpoints written                    |
 * | `LagMs`             | Milliseconds | how far behind the log (when known)    |
 * | `RunDurationMs`     | Milliseconds | how long the pipeline was worked       |
 * | `PipelineRunFailed` | Count        | 1 when the run failed, else 0          |
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
      single.addMetric('EventsFetched', MetricUnit.Count, counts.eventsRead);
      single.addMetric('EventsSent', MetricUnit.Count, counts.eventsSent);
      single.addMetric('MessagesSent', MetricUnit.Count, counts.messagesSent);
      single.addMetric('BytesSent', MetricUnit.Bytes, counts.bytesSent);
      single.addMetric('Pages', MetricUnit.Count, counts.pages);
      single.addMetric('Checkpoints', MetricUnit.Count, counts.checkpoints);
      if (summary.lagMs !== undefined) single.addMetric('LagMs', MetricUnit.Milliseconds, summary.lagMs);
      single.addMetric('RunDurationMs', MetricUnit.Milliseconds, summary.durationMs);
      single.addMetric(
        'PipelineRunFailed',
        MetricUnit.Count,
        summary.outcome === PIPELINE_OUTCOME.failed ? 1 : 0,
      );
    },
  };
}
