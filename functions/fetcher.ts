import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { fetcherFromEnvironment } from '../lib/fetcher/from-environment';
import { powertoolsFetcherMetrics } from '../lib/fetcher/powertools-metrics';

/** Time kept back from the Lambda timeout, so that the run ends before the function is stopped. */
const SAFETY_MARGIN_MS = 5_000;

const logger = new Logger({ serviceName: 'sluice-fetcher' });
const metrics = new Metrics({ namespace: 'Sluice', serviceName: 'sluice-fetcher' });
// Built at cold start: a bad environment fails the function's initialization, naming every problem.
const fetcher = fetcherFromEnvironment(process.env, { logger, metrics: powertoolsFetcherMetrics(metrics) });

/**
 * The fetcher Lambda, run on a schedule: works every pipeline until shortly before its timeout and
 * returns what it did. A pipeline's failure is reported in its summary (errors as `{ name, message }`)
 * and does not fail the invocation; an invalid environment fails the cold start.
 *
 * @example
 * ```ts
 * new NodejsFunction(this, 'Fetcher', { entry: 'functions/fetcher.ts', timeout: Duration.minutes(1) });
 * ```
 */
export const handler = middy(async (_event: unknown, context: { getRemainingTimeInMillis(): number }) => {
  const summary = await fetcher.run({
    deadline: Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
  });
  metrics.addMetric('FetcherRunDurationMs', MetricUnit.Milliseconds, summary.durationMs);
  const pipelines = Object.values(summary.pipelines).map(({ error, ...rest }) =>
    error ? { ...rest, error: { name: error.name, message: error.message } } : rest,
  );
  return { durationMs: summary.durationMs, pipelines };
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
