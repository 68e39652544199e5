import { App, type Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EventLog, EventPipeline, type PipelineLatency } from '../../infra';
import { EXAMPLE_WORKER_ENTRY } from '../../infra/example-app';
import { DEFAULT_SETTLE_WINDOW_MS } from '../../lib/event-log/constants';
import { FETCHER_SETTINGS } from '../../lib/settings/fetcher-settings';
import { FETCHER_ENVIRONMENT } from '../../lib/settings/variables';
import { PRICES } from './prices';

/** What an idle pipeline costs in a month of 30 days, by part, in US dollars. */
export interface IdleCost {
  readonly total: number;
  /** The fetcher's compute (GB-seconds) and invocations. */
  readonly fetcherLambda: number;
  /** The fetcher's reads of the log and its lease, run and checkpoint writes. */
  readonly fetcherDynamoDb: number;
  /** Lambda's SQS pollers on the queue and the DLQ, which long-poll whether messages come or not. */
  readonly sqsPollers: number;
  /** The waker: it runs only when events are committed, so nothing while idle. */
  readonly waker: number;
  /** The settings the model read from the synthesized template. */
  readonly from: {
    readonly runsPerMonth: number;
    readonly busySecondsPerRun: number;
    readonly memoryMb: number;
    /** How often a run reads the live edge. */
    readonly pollIntervalMs: number;
    /** The stream's settle window: stored at deploy by `latency: 'low'`, else the default. */
    readonly settleWindowMs: number;
  };
}

const MINUTES_PER_MONTH = 30 * 24 * 60;
/** The fetcher function keeps this much of its timeout back (functions/fetcher.ts). */
const FETCHER_SAFETY_MARGIN_SECONDS = 5;
/**
 * Assumptions, each an estimate rather than a measurement:
 * - an idle poll of the live edge costs 2 consistent read units (the bucket index and one query), and a
 *   run polls at the fetcher's interval (1 s, or 200 ms with `latency: 'low'`);
 * - a run writes 5 units (lease, run record start and end, checkpoint, release), plus an idle
 *   checkpoint every 30 s while it tails;
 * - a woken or safety-net run spends 1 s beyond its waiting in start-up and those writes;
 * - Lambda's SQS event source long-polls an idle queue with 5 pollers, each a 20-second
 *   ReceiveMessage: 15 requests a minute per queue.
 */
const READ_UNITS_PER_POLL = 2;
const WRITE_UNITS_PER_RUN = 5;
const IDLE_CHECKPOINT_SECONDS = 30;
const RUN_OVERHEAD_SECONDS = 1;
const SQS_POLLER_REQUESTS_PER_MINUTE = 5 * 3;
const LAMBDA_ARM_USD_PER_GB_SECOND = 0.0000133334;

/**
 * Models an idle pipeline's monthly cost from what `EventPipeline` deploys with `latency` and every
 * other setting at its default: the fetcher's memory, timeout and schedule and a woken run's
 * `untilIdleMs` are read from the synthesized template, not restated here.
 *
 * @example
 * ```ts
 * idleCostPerPipelineMonth('balanced').total; // about $0.57
 * ```
 */
export function idleCostPerPipelineMonth(latency: PipelineLatency): IdleCost {
  const { fetcher, everyMinutes, untilIdleMs, pollIntervalMs, settleWindowMs } = deployedSettings(latency);
  const runsPerMonth = MINUTES_PER_MONTH / everyMinutes;
  // A run that leaves once idle waits for the settle window to pass its start, then untilIdleMs; one
  // that tails reads until its timeout.
  const busySecondsPerRun =
    untilIdleMs === undefined
      ? fetcher.timeoutSeconds - FETCHER_SAFETY_MARGIN_SECONDS
      : (settleWindowMs + untilIdleMs) / 1000 + RUN_OVERHEAD_SECONDS;
  const gbSeconds = runsPerMonth * busySecondsPerRun * (fetcher.memoryMb / 1024);
  const fetcherLambda =
    gbSeconds * LAMBDA_ARM_USD_PER_GB_SECOND + (runsPerMonth * PRICES.lambdaPerMillionRequests) / 1e6;
  const readUnits = runsPerMonth * busySecondsPerRun * (1000 / pollIntervalMs) * READ_UNITS_PER_POLL;
  const writeUnits =
    runsPerMonth * (WRITE_UNITS_PER_RUN + Math.floor(busySecondsPerRun / IDLE_CHECKPOINT_SECONDS));
  const fetcherDynamoDb =
    (readUnits * PRICES.dynamoDbPerMillionReadUnits + writeUnits * PRICES.dynamoDbPerMillionWriteUnits) / 1e6;
  const sqsPollers =
    (2 * SQS_POLLER_REQUESTS_PER_MINUTE * MINUTES_PER_MONTH * PRICES.sqsPerMillionRequests) / 1e6;
  const round = (usd: number) => Math.round(usd * 1000) / 1000;
  return {
    total: round(fetcherLambda + fetcherDynamoDb + sqsPollers),
    fetcherLambda: round(fetcherLambda),
    fetcherDynamoDb: round(fetcherDynamoDb),
    sqsPollers: round(sqsPollers),
    waker: 0,
    from: {
      runsPerMonth,
      busySecondsPerRun,
      memoryMb: fetcher.memoryMb,
      pollIntervalMs,
      settleWindowMs,
    },
  };
}

/** What a pipeline whose stream never goes quiet costs in a month of 30 days beside its events, by part. */
export interface SteadyLoadCost {
  readonly total: number;
  /** The fetcher's compute and invocations: tailing the log all month. */
  readonly fetcherLambda: number;
  /** The fetcher's lease, run and checkpoint writes beyond those its events cause. */
  readonly fetcherDynamoDb: number;
  /** The waker: one invocation per batch of stream records, and its read of the pipeline's lease. */
  readonly waker: number;
  readonly sqsPollers: number;
}

/**
 * Lambda polls a stream shard four times a second; under steady traffic each poll hands the waker a
 * batch, unless the log's `wakeBatchingWindow` gathers them for longer (one batch a window). An
 * estimate of the waker's time per batch (records parsed, one `GetItem`): 50 ms.
 */
const STREAM_POLLS_PER_SECOND = 4;
const WAKER_MS_PER_BATCH = 50;

/**
 * Models the monthly cost of a pipeline whose stream receives events all the time, beside what its
 * events cost (the same in every mode, in the per-million figures): with `economy`, a run a minute
 * tailing until its timeout; when woken on commit, one run tailing all month, handing over to the next
 * at each deadline, a safety-net run every `fetchEvery` that finds the lease held, and the waker on
 * every batch of the table's stream (one stream shard), reading the pipeline's lease. Read from the
 * synthesized template, as {@link idleCostPerPipelineMonth}.
 *
 * @example
 * ```ts
 * steadyLoadCostPerPipelineMonth('balanced').total;
 * ```
 */
export function steadyLoadCostPerPipelineMonth(
  latency: PipelineLatency,
  log: { readonly wakeBatchingWindow?: Duration } = {},
): SteadyLoadCost {
  const { fetcher, waker, everyMinutes, untilIdleMs } = deployedSettings(latency, log);
  const memoryGb = fetcher.memoryMb / 1024;
  const secondsPerMonth = MINUTES_PER_MONTH * 60;
  const runSeconds = fetcher.timeoutSeconds - FETCHER_SAFETY_MARGIN_SECONDS;
  const scheduledRuns = MINUTES_PER_MONTH / everyMinutes;
  // Tailing: a scheduled run covers runSeconds of each interval; woken runs cover the whole month,
  // one after another, and the schedule's runs find the lease held and return within a second.
  const tailingRuns = untilIdleMs === undefined ? scheduledRuns : secondsPerMonth / runSeconds;
  const busySeconds =
    untilIdleMs === undefined
      ? scheduledRuns * runSeconds
      : secondsPerMonth + scheduledRuns * RUN_OVERHEAD_SECONDS;
  const invocations = tailingRuns + (untilIdleMs === undefined ? 0 : scheduledRuns);
  const fetcherLambda =
    busySeconds * memoryGb * LAMBDA_ARM_USD_PER_GB_SECOND +
    (invocations * PRICES.lambdaPerMillionRequests) / 1e6;
  const writeUnits = tailingRuns * (WRITE_UNITS_PER_RUN + Math.floor(runSeconds / IDLE_CHECKPOINT_SECONDS));
  const fetcherDynamoDb = (writeUnits * PRICES.dynamoDbPerMillionWriteUnits) / 1e6;
  const batchesPerSecond = waker?.batchingWindowSeconds
    ? Math.min(STREAM_POLLS_PER_SECOND, 1 / waker.batchingWindowSeconds)
    : STREAM_POLLS_PER_SECOND;
  const batches = waker ? secondsPerMonth * batchesPerSecond : 0;
  const wakerCost =
    (batches * PRICES.lambdaPerMillionRequests + batches * PRICES.dynamoDbPerMillionReadUnits) / 1e6 +
    batches * (WAKER_MS_PER_BATCH / 1000) * ((waker?.memoryMb ?? 0) / 1024) * LAMBDA_ARM_USD_PER_GB_SECOND;
  const sqsPollers =
    (2 * SQS_POLLER_REQUESTS_PER_MINUTE * MINUTES_PER_MONTH * PRICES.sqsPerMillionRequests) / 1e6;
  const round = (usd: number) => Math.round(usd * 1000) / 1000;
  return {
    total: round(fetcherLambda + fetcherDynamoDb + wakerCost + sqsPollers),
    fetcherLambda: round(fetcherLambda),
    fetcherDynamoDb: round(fetcherDynamoDb),
    waker: round(wakerCost),
    sqsPollers: round(sqsPollers),
  };
}

/** What `EventPipeline` deploys with `latency` and every other setting at its default, as the models read it. */
interface DeployedSettings {
  readonly fetcher: { readonly memoryMb: number; readonly timeoutSeconds: number };
  readonly waker?: { readonly memoryMb: number; readonly batchingWindowSeconds?: number };
  readonly everyMinutes: number;
  readonly untilIdleMs?: number;
  readonly pollIntervalMs: number;
  readonly settleWindowMs: number;
}

function deployedSettings(
  latency: PipelineLatency,
  log: { readonly wakeBatchingWindow?: Duration } = {},
): DeployedSettings {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'IdleCost');
  new EventPipeline(stack, 'Idle', {
    eventLog: new EventLog(stack, 'EventLog', log),
    stream: 'orders',
    entry: EXAMPLE_WORKER_ENTRY,
    latency,
  });
  const template = Template.fromStack(stack);
  type FunctionProperties = {
    MemorySize: number;
    Timeout: number;
    Environment: { Variables: Record<string, unknown> };
  };
  const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
  const propertiesOf = (prefix: string) =>
    functions.find(([id]) => id.startsWith(prefix))?.[1].Properties as FunctionProperties | undefined;
  const fetcherFunction = propertiesOf('IdleFetcher');
  const wakerFunction = propertiesOf('EventLogWaker');
  const [schedule] = Object.values(template.findResources('AWS::Events::Rule'))
    .map((rule) => rule.Properties as { ScheduleExpression?: string; Targets: { Input?: string }[] })
    .filter((rule) => rule.ScheduleExpression !== undefined);
  if (!fetcherFunction || !schedule?.ScheduleExpression)
    throw new Error('no fetcher or schedule in the template');
  const [, amount, unit] =
    /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(schedule.ScheduleExpression) ?? [];
  const input = schedule.Targets[0]?.Input;
  const untilIdleMs =
    input === undefined ? undefined : (JSON.parse(input) as { untilIdleMs?: number }).untilIdleMs;
  const pollVariable = fetcherFunction.Environment.Variables[FETCHER_ENVIRONMENT.pollIntervalMs];
  // A declared stream timing is in the custom resource that stores it at deploy.
  const [storedTiming] = Object.values(template.findResources('Custom::SluiceStreamTiming'));
  const storedWindow = storedTiming?.Properties.SettleWindowMs as string | undefined;
  const [wakerMapping] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
    (mapping) => JSON.stringify(mapping.Properties.FunctionName).includes('EventLogWaker'),
  );
  const wakerWindow = wakerMapping?.Properties.MaximumBatchingWindowInSeconds as number | undefined;
  return {
    fetcher: { memoryMb: fetcherFunction.MemorySize, timeoutSeconds: fetcherFunction.Timeout },
    ...(wakerFunction
      ? {
          waker: {
            memoryMb: wakerFunction.MemorySize,
            ...(wakerWindow === undefined ? {} : { batchingWindowSeconds: wakerWindow }),
          },
        }
      : {}),
    everyMinutes: Number(amount) * (unit?.startsWith('hour') ? 60 : 1),
    ...(untilIdleMs === undefined ? {} : { untilIdleMs }),
    pollIntervalMs:
      pollVariable === undefined ? FETCHER_SETTINGS.pollIntervalMs.default : Number(pollVariable),
    settleWindowMs: storedWindow === undefined ? DEFAULT_SETTLE_WINDOW_MS : Number(storedWindow),
  };
}
