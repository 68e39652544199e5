import { describe, ValidationError } from '../../errors';
import { latencyProblem } from '../../settings/latency';
import { MAX_FIFO_BATCH_SIZE, maxRedeliveryCountProblem } from '../../settings/redelivery';
import type { LocalPipelineOptions } from './local-pipeline-types';
import { OptionProblems } from './option-problems';

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
  const problems = new OptionProblems();
  const workers = (['worker', 'workerModule', 'workerFactory'] as const).filter(
    (key) => options[key] !== undefined,
  );
  if (workers.length !== 1)
    problems.add(
      `give exactly one of worker, workerModule and workerFactory (given ${workers.length === 0 ? 'none' : workers.join(', ')})`,
    );
  if (options.failedHandler !== undefined && options.failedModule !== undefined)
    problems.add('give failedHandler or failedModule, not both');
  for (const key of ['workerModule', 'failedModule'] as const) {
    const module = options[key];
    if (module !== undefined && (typeof module?.path !== 'string' || module.path.length === 0))
      problems.add(`${key}.path must be a file path (given ${describe(module?.path)})`);
  }
  if (typeof options.pipeline?.name !== 'string' || typeof options.pipeline?.stream !== 'string')
    problems.add(`pipeline must have a name and a stream (given ${describe(options.pipeline)})`);
  if ('queueUrl' in (options.pipeline ?? {}))
    problems.add('pipeline.queueUrl is set by the local runtime: leave it out');
  const endpoints = options.endpoints;
  if (
    endpoints !== undefined &&
    endpoints !== 'aws' &&
    (typeof endpoints?.dynamodb !== 'string' || typeof endpoints?.sqs !== 'string')
  )
    problems.add(`endpoints must be 'aws' or { dynamodb, sqs } URLs (given ${describe(endpoints)})`);
  problems.wholeNumber('workerTimeoutSeconds', options.workerTimeoutSeconds, 1, 900);
  const redeliveryProblem = maxRedeliveryCountProblem('maxRedeliveryCount', options.maxRedeliveryCount);
  if (redeliveryProblem) problems.add(redeliveryProblem);
  if (options.pipeline?.fifo === true)
    problems.wholeNumber('batchSize', options.batchSize, 1, MAX_FIFO_BATCH_SIZE);
  problems.wholeNumber('fetcherIntervalMs', options.fetcherIntervalMs, 10, 86_400_000);
  problems.wholeNumber('fetcherTimeoutSeconds', options.fetcherTimeoutSeconds, 1, 900);
  problems.wholeNumber('fetcherPollIntervalMs', options.fetcherPollIntervalMs, 10, 60_000);
  if (options.latency !== undefined) {
    const badLatency = latencyProblem(options.latency);
    if (badLatency) problems.add(badLatency);
  }
  problems.wholeNumber('wakeBatchingWindowSeconds', options.wakeBatchingWindowSeconds, 0, 300);
  if (options.wakeOnCommit !== undefined && typeof options.wakeOnCommit !== 'boolean')
    problems.add(`wakeOnCommit must be true or false (given ${describe(options.wakeOnCommit)})`);
  problems.throwIfAny('invalid local pipeline options', options);
}
