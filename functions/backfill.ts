import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { deployedFetcherRuntime } from '../lib/backfill/deployed-runtime';
import type { BackfillRequestedEvent } from '../lib/backfill/handler';
import { runRequestedBackfill } from '../lib/backfill/run-requested';
import { METRICS_NAMESPACE, SERVICE_NAMES } from '../lib/metrics/names';
import { formatPosition } from '../lib/time/position';

/** Time kept back from the Lambda timeout, so that the run ends before the function is stopped. */
const SAFETY_MARGIN_MS = 5_000;

const logger = new Logger({ serviceName: SERVICE_NAMES.backfill });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAMES.fetcher });
// Built at cold start: a bad environment fails the function's initialization, naming every problem.
const { fetcher, store, completion } = deployedFetcherRuntime(process.env, { logger, metrics });

/**
 * The backfill Lambda, the target of a pipeline's "Backfill Requested" rule: registers the backfill,
 * works it until shortly before its timeout, and emits "Backfill Completed" if it finished (else the
 * pipeline's scheduled fetcher carries on and emits it). A malformed request or an unknown pipeline
 * fails the invocation with the reason, before anything is registered.
 *
 * @example
 * ```ts
 * new NodejsFunction(this, 'Backfill', { entry: 'functions/backfill.ts', timeout: Duration.minutes(5) });
 * ```
 */
export const handler = middy(
  async (event: BackfillRequestedEvent, context: { getRemainingTimeInMillis(): number }) => {
    const deadline = Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
    const outcome = await runRequestedBackfill(
      event,
      { store, fetcher, ...(completion ? { completion } : {}) },
      deadline,
    );
    const { backfill, run, emitted, emitFailures } = outcome;
    for (const { backfillPipeline, error } of emitFailures)
      logger.error('could not announce a completed backfill; the scheduled fetcher tries again', {
        backfillPipeline,
        error: error.message,
      });
    const summary = run.pipelines[backfill.backfillPipeline];
    return {
      backfillPipeline: backfill.backfillPipeline,
      created: backfill.created,
      from: formatPosition(backfill.from),
      stopAt: formatPosition(backfill.stopAt),
      outcome: summary?.outcome,
      eventsSent: summary?.counts.eventsSent ?? 0,
      completed: emitted.length > 0,
    };
  },
)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
