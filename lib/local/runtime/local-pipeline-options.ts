import { describe, ValidationError } from '../../errors';
import { MAX_FIFO_BATCH_SIZE, maxRedeliveryCountProblem } from '../../settings/redelivery';
import type { LocalPipelineOptions } from './local-pipeline-types';

/**
 * Checks the options of {@link startLocalPipeline} and throws a `ValidationError` naming every problem.
 * The event source settings are checked again, by AWS's rules, when the mappings are built.
 *
 * @example
 * ```ts
 * validateLocalPipelineOptions({ pipeline: { name: 'billing', stream: 'orders' }, worker: handler });
 * ```
 */
export function validateLocalPipelineOptions(options: LocalPipelineOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new ValidationError(`options must be an object (given ${describe(options)})`, options);
  const problems: string[] = [];
  const workers = (['worker', 'workerModule', 'workerFactory'] as const).filter(
    (key) => options[key] !== undefined,
  );
  if (workers.length !== 1)
    problems.push(
      `give exactly one of worker, workerModule and workerFactory (given ${workers.length === 0 ? 'none' : workers.join(', ')})`,
    );
  if (options.failedHandler !== undefined && options.failedModule !== undefined)
    problems.push('give failedHandler or failedModule, not both');
  for (const key of ['workerModule', 'failedModule'] as const) {
    const module = options[key];
    if (module !== undefined && (typeof module?.path !== 'string' || module.path.length === 0))
      problems.push(`${key}.path must be a file path (given ${describe(module?.path)})`);
  }
  if (typeof options.pipeline?.name !== 'string' || typeof options.pipeline?.stream !== 'string')
    problems.push(`pipeline must have a name and a stream (given ${describe(options.pipeline)})`);
  if ('queueUrl' in (options.pipeline ?? {}))
    problems.push('pipeline.queueUrl is set by the local runtime: leave it out');
  const endpoints = options.endpoints;
  if (
    endpoints !== undefined &&
    endpoints !== 'aws' &&
    (typeof endpoints?.dynamodb !== 'string' || typeof endpoints?.sqs !== 'string')
  )
    problems.push(`endpoints must be 'aws' or { dynamodb, sqs } URLs (given ${describe(endpoints)})`);
  const whole = (name: string, value: unknown, min: number, max: number) => {
    if (
      value !== undefined &&
      (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    )
      problems.push(`${name} must be between ${min} and ${max} (given ${describe(value)})`);
  };
  whole('workerTimeoutSeconds', options.workerTimeoutSeconds, 1, 900);
  const redeliveryProblem = maxRedeliveryCountProblem('maxRedeliveryCount', options.maxRedeliveryCount);
  if (redeliveryProblem) problems.push(redeliveryProblem);
  if (options.pipeline?.fifo === true) whole('batchSize', options.batchSize, 1, MAX_FIFO_BATCH_SIZE);
  whole('fetcherIntervalMs', options.fetcherIntervalMs, 10, 86_400_000);
  whole('fetcherTimeoutSeconds', options.fetcherTimeoutSeconds, 1, 900);
  whole('fetcherPollIntervalMs', options.fetcherPollIntervalMs, 10, 60_000);
  if (options.wakeOnCommit !== undefined && typeof options.wakeOnCommit !== 'boolean')
    problems.push(`wakeOnCommit must be true or false (given ${describe(options.wakeOnCommit)})`);
  if (problems.length > 0)
    throw new ValidationError(`invalid local pipeline options: ${problems.join('; ')}`, options);
}
