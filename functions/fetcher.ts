import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { LambdaClient } from '@aws-sdk/client-lambda';
import middy from '@middy/core';
import { announceCompletedBackfills } from '../lib/backfill/announce';
import { deployedFetcherRuntime } from '../lib/backfill/deployed-runtime';
import { METRICS_NAMESPACE, SERVICE_NAMES } from '../lib/metrics/names';
import { lambdaHandOff } from '../lib/wake/lambda-wake';
import { wokenRunOptionsOf } from '../lib/wake/wake-routes';

/** Time kept back from the Lambda timeout, so that the run ends before the function is stopped. */
const SAFETY_MARGIN_MS = 5_000;

const logger = new Logger({ serviceName: SERVICE_NAMES.fetcher });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAMES.fetcher });
// Lambda names the function in its environment: a run that must end with events still to read
// invokes this function again for them.
const self = process.env.AWS_LAMBDA_FUNCTION_NAME;
// Built at cold start: a bad environment fails the function's initialization, naming every problem.
const { fetcher, store, completion } = deployedFetcherRuntime(
  process.env,
  { logger, metrics },
  self ? { handOff: lambdaHandOff(new LambdaClient({}), self) } : {},
);

/**
 * The fetcher Lambda, run on a schedule or woken by a commit: registers the pipelines it is deployed
 * for, works them and their backfills until shortly before its timeout (or, when the event carries
 * `untilIdleMs`, until they have been idle that long), announces the backfills it completed, and
 * returns what it did. A pipeline's failure is reported in its summary (errors as `{ name, message }`)
 * and does not fail the invocation; an invalid environment fails the cold start.
 *
 * @example
 * ```ts
 * new NodejsFunction(this, 'Fetcher', { entry: 'functions/fetcher.ts', timeout: Duration.minutes(1) });
 * ```
 */
export const handler = middy(async (event: unknown, context: { getRemainingTimeInMillis(): number }) => {
  const summary = await fetcher.run({
    deadline: Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
    ...wokenRunOptionsOf(event),
  });
  metrics.addMetric('FetcherRunDurationMs', MetricUnit.Milliseconds, summary.durationMs);
  if (completion) {
    const { emitted, failures } = await announceCompletedBackfills(summary, store, completion);
    for (const detail of emitted) logger.info('backfill completed', { ...detail });
    for (const { backfillPipeline, error } of failures)
      logger.error('could not announce a completed backfill; the next run tries again', {
        backfillPipeline,
        error: error.message,
      });
  }
  const pipelines = Object.values(summary.pipelines).map(({ error, ...rest }) =>
    error ? { ...rest, error: { name: error.name, message: error.message } } : rest,
  );
  return { durationMs: summary.durationMs, pipelines };
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
