import { Logger } from '@aws-lambda-powertools/logger';
import type { EventLog } from '../../event-log/event-log';
import { createFailedEventFunction } from '../../failed/failed-event-function';
import type { FailureStore } from '../../failed/failure-store';
import { WORKER_ENVIRONMENT } from '../../settings/variables';
import type { CleanupStack } from './cleanup-stack';
import { importHandler, type ModuleExport, setEnvironment } from './function-modules';
import type { LambdaHandler } from './lambda-context';
import type { LambdaSqsEvent } from './lambda-sqs-records';
import type { LocalPipelineOptions, LocalPipelineResources } from './local-pipeline-types';

/** The two functions a local pipeline runs on its queues. */
export interface LocalFunctions {
  readonly worker: LambdaHandler<LambdaSqsEvent>;
  readonly failedFunction: LambdaHandler<LambdaSqsEvent>;
}

/** Where the functions' AWS clients go, as the Lambda environment would tell them. */
export interface FunctionAwsSettings {
  readonly endpoints: { readonly dynamodb?: string; readonly sqs?: string };
  readonly region?: string;
  readonly credentials?: LocalPipelineOptions['credentials'];
  readonly maxRedeliveryCount: number;
}

/**
 * The worker and the failed-event function, as Lambda would load them: a module is imported after the
 * `SLUICE_*` and AWS variables are set in `process.env` (put back by `cleanups`); without a module,
 * the worker given or built, and the failed-event function around the failed handler.
 *
 * @example
 * ```ts
 * const { worker, failedFunction } = await loadFunctions(options, resources, failures, aws, cleanups);
 * ```
 */
export async function loadFunctions(
  options: LocalPipelineOptions,
  resources: LocalPipelineResources,
  failures: FailureStore,
  aws: FunctionAwsSettings,
  cleanups: CleanupStack,
): Promise<LocalFunctions> {
  if (options.workerModule || options.failedModule)
    cleanups.push(setEnvironment(functionEnvironment(resources, aws)));
  const worker =
    options.worker ??
    (options.workerFactory
      ? await options.workerFactory(resources)
      : await importHandler<LambdaSqsEvent>(options.workerModule as ModuleExport, 'workerModule'));
  const failedFunction = options.failedModule
    ? await importHandler<LambdaSqsEvent>(options.failedModule, 'failedModule')
    : failedEventFunction(options, resources.eventLog, failures);
  return { worker, failedFunction };
}

/** The variables a deployed worker or failed-event function finds in its environment. */
function functionEnvironment(
  resources: LocalPipelineResources,
  aws: FunctionAwsSettings,
): Record<string, string | undefined> {
  const { endpoints, region, credentials } = aws;
  return {
    [WORKER_ENVIRONMENT.pipeline]: resources.pipeline,
    [WORKER_ENVIRONMENT.stateTable]: resources.stateTable,
    [WORKER_ENVIRONMENT.eventLogTable]: resources.eventLogTable,
    [WORKER_ENVIRONMENT.deadLetterQueueUrl]: resources.deadLetterQueueUrl,
    [WORKER_ENVIRONMENT.queueUrl]: resources.queueUrl,
    [WORKER_ENVIRONMENT.maxRedeliveryCount]: String(aws.maxRedeliveryCount),
    ...(endpoints.dynamodb ? { AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb } : {}),
    ...(endpoints.sqs ? { AWS_ENDPOINT_URL_SQS: endpoints.sqs } : {}),
    ...(region ? { AWS_REGION: region } : {}),
    ...(credentials
      ? {
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_SESSION_TOKEN: credentials.sessionToken,
        }
      : {}),
  };
}

/** The failed-event function around the user's failed handler (by default, one that logs each failure). */
function failedEventFunction(
  options: LocalPipelineOptions,
  eventLog: EventLog,
  failures: FailureStore,
): LambdaHandler<LambdaSqsEvent> {
  return createFailedEventFunction({
    pipeline: options.pipeline.name,
    store: failures,
    // `context.commit` commits the failed handler's events to the pipeline's event log.
    eventLog,
    logger: new Logger({ serviceName: 'sluice-failed', logLevel: 'WARN' }),
    failedHandler:
      options.failedHandler ??
      ((events) => {
        for (const failure of events)
          console.error(
            `${failure.pipeline}: event ${failure.event.id} failed ${failure.attempts} time(s): ${failure.lastError.message}`,
          );
      }),
  }) as unknown as LambdaHandler<LambdaSqsEvent>;
}
