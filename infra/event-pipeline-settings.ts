import { Duration, Token } from 'aws-cdk-lib';
import { BACKFILL_NAME_INFIX } from '../lib/backfill/constants';
import { NAME_PATTERN, NAME_RULE } from '../lib/event-log/names';
import { type PipelineDefinition, resolvePipeline } from '../lib/pipeline/definition';
import { LATENCY_PROFILES, type LatencyProfile, latencyProblem } from '../lib/settings/latency';
import { DEFAULT_MAX_REDELIVERY_COUNT, maxRedeliveryCountProblem } from '../lib/settings/redelivery';
import { type EventPipelineProps, PIPELINE_LATENCY, type PipelineLatency } from './event-pipeline-props';
import { alarmThresholdProblems } from './pipeline-monitoring';

// Checking an `EventPipeline`'s props at synth: every problem in one error, with its value.

/** The props of an `EventPipeline`, checked, with their defaults filled in. */
export interface ResolvedProps {
  readonly pipelineName: string;
  readonly fifo: boolean;
  readonly workerTimeout: Duration;
  readonly maxRedeliveryCount: number;
  readonly batchSize: number;
  readonly commitsOutputs: boolean;
  readonly fetchEvery: Duration;
  readonly latency: PipelineLatency;
  /** What `latency` turns on. */
  readonly latencyProfile: LatencyProfile;
  /** The definition the fetcher registers, but for its queue URL. */
  readonly definition: Omit<PipelineDefinition, 'queueUrl'>;
}

/** The queue URL that stands in for the queue's token while the definition is checked. */
const PLACEHOLDER_QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/placeholder';

/** Checks every prop and fills in the defaults; throws one error listing every problem with its value. */
export function resolveProps(id: string, props: EventPipelineProps, path: string): ResolvedProps {
  const problems: string[] = [];
  const given = (value: unknown) => `(given ${JSON.stringify(value)})`;
  const pipelineName = props.pipelineName ?? id;
  if (!NAME_PATTERN.test(pipelineName))
    problems.push(
      `pipelineName must be ${NAME_RULE} ${given(pipelineName)}${props.pipelineName === undefined ? ': the construct id is used when pipelineName is left out' : ''}`,
    );
  else if (pipelineName.includes(BACKFILL_NAME_INFIX))
    problems.push(
      `pipelineName cannot contain '${BACKFILL_NAME_INFIX}': the name of a backfill of another pipeline ${given(pipelineName)}`,
    );
  for (const stream of props.outputStreams ?? [])
    if (typeof stream !== 'string' || !NAME_PATTERN.test(stream))
      problems.push(`outputStreams must be stream names that ${NAME_RULE} ${given(stream)}`);
  if (props.outputStreams !== undefined && props.outputStreams.length === 0)
    problems.push(`outputStreams cannot be empty: set commitsOutputs to false instead ${given([])}`);
  if (props.outputStreams !== undefined && props.commitsOutputs === false)
    problems.push(`outputStreams has no use when commitsOutputs is false ${given(props.outputStreams)}`);
  if (typeof props.entry !== 'string' || props.entry === '')
    problems.push(`entry must name the worker's file ${given(props.entry)}`);
  const fifo = props.fifo ?? false;
  const workerTimeout = props.workerTimeout ?? Duration.seconds(30);
  const workerTimeoutSeconds = workerTimeout.toSeconds();
  if (workerTimeoutSeconds < 10 || workerTimeoutSeconds > 900)
    problems.push(
      `workerTimeout must be from 10 seconds to 15 minutes: the worker keeps 5 seconds back to return its batch ${given(workerTimeout.toHumanString())}`,
    );
  const maxRedeliveryCount = props.maxRedeliveryCount ?? DEFAULT_MAX_REDELIVERY_COUNT;
  const redeliveryProblem = maxRedeliveryCountProblem('maxRedeliveryCount', maxRedeliveryCount);
  if (redeliveryProblem) problems.push(redeliveryProblem);
  const batchSize = props.batchSize ?? 10;
  const maxBatchSize = fifo ? 10 : 10_000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > maxBatchSize)
    problems.push(
      `batchSize must be a whole number from 1 to ${maxBatchSize}${fifo ? ' on a FIFO queue' : ''} ${given(batchSize)}`,
    );
  const windowSeconds = props.maxBatchingWindow?.toSeconds();
  if (windowSeconds !== undefined) {
    if (fifo)
      problems.push(
        `maxBatchingWindow cannot be set on a FIFO queue ${given(props.maxBatchingWindow?.toHumanString())}`,
      );
    else if (windowSeconds > 300)
      problems.push(
        `maxBatchingWindow must be at most 5 minutes ${given(props.maxBatchingWindow?.toHumanString())}`,
      );
  }
  if (!fifo && batchSize > 10 && !(windowSeconds !== undefined && windowSeconds >= 1))
    problems.push(
      `batchSize over 10 needs a maxBatchingWindow of at least 1 second, as Lambda requires ${given(batchSize)}`,
    );
  const { maxConcurrency } = props;
  if (
    maxConcurrency !== undefined &&
    (!Number.isInteger(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1_000)
  )
    problems.push(`maxConcurrency must be a whole number from 2 to 1000 ${given(maxConcurrency)}`);
  const latency = props.latency ?? PIPELINE_LATENCY.balanced;
  const badLatency = latencyProblem(latency);
  if (badLatency) problems.push(badLatency);
  const fetchEvery = props.fetchEvery ?? Duration.minutes(latency === PIPELINE_LATENCY.economy ? 1 : 15);
  if (fetchEvery.toSeconds() < 60 || fetchEvery.toSeconds() % 60 !== 0)
    problems.push(
      `fetchEvery must be a whole number of minutes, as EventBridge schedules are ${given(fetchEvery.toHumanString())}`,
    );
  const fetcherTimeout = props.fetcherTimeout ?? Duration.minutes(1);
  if (fetcherTimeout.toSeconds() < 15 || fetcherTimeout.toSeconds() > 900)
    problems.push(
      `fetcherTimeout must be from 15 seconds to 15 minutes ${given(fetcherTimeout.toHumanString())}`,
    );
  const retention = props.retentionPeriod?.toSeconds();
  if (retention !== undefined && (retention < 60 || retention > 14 * 86_400))
    problems.push(
      `retentionPeriod must be from 1 minute to 14 days ${given(props.retentionPeriod?.toHumanString())}`,
    );

  const definition = {
    name: pipelineName,
    stream: props.stream,
    ...(props.eventTypes ? { eventTypes: [...props.eventTypes] } : {}),
    start: props.start ?? 'latest',
    ...(props.bufferSize === undefined ? {} : { bufferSize: props.bufferSize }),
    ...(props.maxEventsPerMessage === undefined ? {} : { maxEventsPerMessage: props.maxEventsPerMessage }),
  } satisfies Omit<PipelineDefinition, 'queueUrl'>;
  try {
    resolvePipeline({ ...definition, queueUrl: fifo ? `${PLACEHOLDER_QUEUE}.fifo` : PLACEHOLDER_QUEUE });
  } catch (error) {
    const { problems: definitionProblems } = error as { problems?: readonly string[] };
    // The name was checked above, with a hint about the construct id.
    problems.push(
      ...(definitionProblems ?? [(error as Error).message]).filter((problem) => !problem.startsWith('name:')),
    );
  }
  if (props.alarmThresholds) problems.push(...alarmThresholdProblems(props.alarmThresholds));
  if (props.workerEnvironment)
    for (const name of Object.keys(props.workerEnvironment))
      if (name.startsWith('SLUICE_'))
        problems.push(
          `workerEnvironment cannot set ${name}: the construct sets the SLUICE_ variables ${given(name)}`,
        );
  for (const [name, value] of Object.entries(props.workerEnvironment ?? {}))
    if (typeof value !== 'string' && !Token.isUnresolved(value))
      problems.push(`workerEnvironment.${name} must be a string ${given(value)}`);

  if (problems.length > 0) throw new Error(`invalid EventPipeline props at ${path}: ${problems.join('; ')}`);
  return {
    pipelineName,
    fifo,
    workerTimeout,
    maxRedeliveryCount,
    batchSize,
    commitsOutputs: props.commitsOutputs ?? true,
    fetchEvery,
    latency,
    latencyProfile: LATENCY_PROFILES[latency],
    definition,
  };
}
