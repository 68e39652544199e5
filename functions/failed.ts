import { Logger } from '@aws-lambda-powertools/logger';
import { createFailedEventFunction } from '../lib/failed/failed-event-function';

// An example entry for a pipeline's dead-letter queue. Write your own file like this one, with your
// own failed handler, and point the pipeline's CDK construct at it: the construct bundles the file and
// sets SLUICE_PIPELINE and SLUICE_STATE_TABLE. Each failure is handed over once, with its last error;
// throw to have the whole batch handed over again later.

const logger = new Logger({ serviceName: 'sluice-failed' });

/**
 * Logs each event that kept failing, at error level, with why its last attempt failed.
 *
 * @example
 * ```ts
 * new NodejsFunction(this, 'Failed', { entry: 'functions/failed.ts' });
 * ```
 */
export const handler = createFailedEventFunction({
  logger,
  failedHandler: async (failures) => {
    for (const { pipeline, event, attempts, lastError, failedAt } of failures) {
      logger.error('event gave up after its last attempt', {
        pipeline,
        eventId: event.id,
        eventType: event.type,
        stream: event.stream,
        attempts,
        lastError,
        failedAt: new Date(failedAt).toISOString(),
      });
    }
  },
});
