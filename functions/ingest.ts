import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { ingestFromEnvironment } from '../lib/ingest/from-environment';

/** Time kept back from the Lambda timeout, so that the run saves its cursor before the function is stopped. */
const SAFETY_MARGIN_MS = 10_000;

const logger = new Logger({ serviceName: 'sluice-ingest' });
// Built at cold start: a bad environment fails the function's initialization, naming every problem.
const ingest = ingestFromEnvironment(process.env);

/**
 * The ingest Lambda, run on a schedule: pages the configured HTTP API from its saved cursor until
 * shortly before its timeout, commits new and changed records, and returns what it did. A run that
 * fails (the API keeps failing, the lock was lost) fails the invocation; the next one resumes.
 *
 * @example
 * ```ts
 * new IngestFunction(this, 'Customers', { eventLog, stateTable, source: { name: 'crm', url, stream: 'customers', eventType: 'customer.changed' } });
 * ```
 */
export const handler = middy(async (_event: unknown, context: { getRemainingTimeInMillis(): number }) => {
  const result = await ingest({
    deadline: Date.now() + context.getRemainingTimeInMillis(),
    reserveMs: SAFETY_MARGIN_MS,
    trigger: 'schedule',
  });
  logger.info('ingest run ended', { status: result.status, runId: result.runId, counts: result.counts });
  return { status: result.status, runId: result.runId, cursor: result.cursor, counts: result.counts };
}).use(injectLambdaContext(logger));
