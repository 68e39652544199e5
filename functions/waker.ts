import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import middy from '@middy/core';
import { METRICS_NAMESPACE, PIPELINE_DIMENSION, SERVICE_NAMES, WAKER_METRICS } from '../lib/metrics/names';
import { WAKER_ENVIRONMENT } from '../lib/settings/variables';
import { lambdaWake } from '../lib/wake/lambda-wake';
import { leaseHolderWillRead } from '../lib/wake/lease-check';
import { storedSettleWindows } from '../lib/wake/settle-windows';
import { parseWakeRoutes } from '../lib/wake/wake-routes';
import { type LogStreamRecord, Waker } from '../lib/wake/waker';

const logger = new Logger({ serviceName: SERVICE_NAMES.waker });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAMES.waker });
const dynamodb = new DynamoDBClient({});
const eventLogTable = process.env[WAKER_ENVIRONMENT.eventLogTable];
// Built at cold start: malformed routes fail the function's initialization, naming each.
const waker = new Waker({
  routes: parseWakeRoutes(process.env[WAKER_ENVIRONMENT.wakeRoutes]),
  wake: lambdaWake(new LambdaClient({})),
  leftToHolder: leaseHolderWillRead(dynamodb),
  ...(eventLogTable ? { settleWindowMsOf: storedSettleWindows(dynamodb, eventLogTable) } : {}),
});

/** Adds `count` to the waker's metric `name` for `pipeline`. */
function countFor(pipeline: string, name: string, count: number): void {
  const single = metrics.singleMetric();
  single.addDimension(PIPELINE_DIMENSION, pipeline);
  single.addMetric(name, MetricUnit.Count, count);
}

/**
 * The waker Lambda, on the event log table's stream: wakes the fetcher of every pipeline whose stream
 * just received events, and counts commits stored after their settle window. A failed wake-up is
 * logged and left to the pipeline's schedule; the batch never fails, so the stream is never held back.
 */
export const handler = middy(async (event: { Records?: readonly LogStreamRecord[] }) => {
  const { woken, skipped, leftToHolder, failed, late } = await waker.onRecords(event.Records ?? []);
  for (const pipeline of woken) countFor(pipeline, WAKER_METRICS.wakeups, 1);
  for (const { pipeline, error } of failed)
    logger.error('could not wake a fetcher; its schedule will run it', { pipeline, error: error.message });
  for (const { stream, eventId, lateByAtLeastMs, pipelines } of late) {
    logger.warn(
      'a commit was stored after its settle window: pipelines whose checkpoint had passed it skipped its events',
      { stream, eventId, lateByAtLeastMs, pipelines },
    );
    for (const pipeline of pipelines) countFor(pipeline, WAKER_METRICS.lateCommits, 1);
  }
  return {
    woken,
    skipped,
    leftToHolder,
    failed: failed.map(({ pipeline }) => pipeline),
    late: late.map(({ eventId }) => eventId),
  };
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
