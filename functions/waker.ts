import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import middy from '@middy/core';
import { METRICS_NAMESPACE, PIPELINE_DIMENSION, SERVICE_NAMES, WAKER_METRICS } from '../lib/metrics/names';
import { lambdaWake } from '../lib/wake/lambda-wake';
import { leaseHolderWillRead } from '../lib/wake/lease-check';
import { parseWakeRoutes, WAKE_ROUTES_VARIABLE } from '../lib/wake/wake-routes';
import { type LogStreamRecord, Waker } from '../lib/wake/waker';

const logger = new Logger({ serviceName: SERVICE_NAMES.waker });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAMES.waker });
// Built at cold start: malformed routes fail the function's initialization, naming each.
const waker = new Waker({
  routes: parseWakeRoutes(process.env[WAKE_ROUTES_VARIABLE]),
  wake: lambdaWake(new LambdaClient({})),
  leftToHolder: leaseHolderWillRead(new DynamoDBClient({})),
});

/**
 * The waker Lambda, on the event log table's stream: wakes the fetcher of every pipeline whose stream
 * just received events. A failed wake-up is logged and left to the pipeline's schedule; the batch
 * never fails, so the stream is never held back.
 */
export const handler = middy(async (event: { Records?: readonly LogStreamRecord[] }) => {
  const { woken, skipped, leftToHolder, failed } = await waker.onRecords(event.Records ?? []);
  for (const pipeline of woken) {
    const single = metrics.singleMetric();
    single.addDimension(PIPELINE_DIMENSION, pipeline);
    single.addMetric(WAKER_METRICS.wakeups, MetricUnit.Count, 1);
  }
  for (const { pipeline, error } of failed)
    logger.error('could not wake a fetcher; its schedule will run it', { pipeline, error: error.message });
  return { woken, skipped, leftToHolder, failed: failed.map(({ pipeline }) => pipeline) };
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
