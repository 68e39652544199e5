import { App, Stack } from 'aws-cdk-lib';
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
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'IdleCost');
  new EventPipeline(stack, 'Idle', {
    eventLog: new EventLog(stack, 'EventLog'),
    stream: 'orders',
    entry: EXAMPLE_WORKER_ENTRY,
    latency,
  });
  const template = Template.fromStack(stack);
  const [fetcherFunction] = Object.entries(template.findResources('AWS::Lambda::Function'))
    .filter(([id]) => id.startsWith('IdleFetcher'))
    .map(
      ([, resource]) =>
        resource.Properties as {
          MemorySize: number;
          Timeout: number;
          Environment: { Variables: Record<string, unknown> };
        },
    );
  const [schedule] = Object.values(template.findResources('AWS::Events::Rule'))
    .map((rule) => rule.Properties as { ScheduleExpression?: string; Targets: { Input?: string }[] })
    .filter((rule) => rule.ScheduleExpression !== undefined);
  if (!fetcherFunction || !schedule?.ScheduleExpression)
    throw new Error('no fetcher or schedule in the template');
  const [, amount, unit] =
    /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(schedule.ScheduleExpression) ?? [];
  const everyMinutes = Number(amount) * (unit?.startsWith('hour') ? 60 : 1);
  const input = schedule.Targets[0]?.Input;
  const untilIdleMs =
    input === undefined ? undefined : (JSON.parse(input) as { untilIdleMs?: number }).untilIdleMs;

  const pollVariable = fetcherFunction.Environment.Variables[FETCHER_ENVIRONMENT.pollIntervalMs];
  const pollIntervalMs =
    pollVariable === undefined ? FETCHER_SETTINGS.pollIntervalMs.default : Number(pollVariable);
  // A declared stream timing is in the custom resource that stores it at deploy.
  const storedWindow = /\\"settleWindowMs\\":\{\\"N\\":\\"(\d+)\\"/.exec(
    JSON.stringify(template.findResources('Custom::AWS')),
  )?.[1];
  const settleWindowMs = storedWindow === undefined ? DEFAULT_SETTLE_WINDOW_MS : Number(storedWindow);

  const runsPerMonth = MINUTES_PER_MONTH / everyMinutes;
  // A run that leaves once idle waits for the settle window to pass its start, then untilIdleMs; one
  // that tails reads until its timeout.
  const busySecondsPerRun =
    untilIdleMs === undefined
      ? fetcherFunction.Timeout - FETCHER_SAFETY_MARGIN_SECONDS
      : (settleWindowMs + untilIdleMs) / 1000 + RUN_OVERHEAD_SECONDS;
  const gbSeconds = runsPerMonth * busySecondsPerRun * (fetcherFunction.MemorySize / 1024);
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
      memoryMb: fetcherFunction.MemorySize,
      pollIntervalMs,
      settleWindowMs,
    },
  };
}
