import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, ValidationError } from '../errors';
import { DEFAULT_COMMIT_DEADLINE_MS, TABLE_NAME_PATTERN } from '../event-log/constants';
import { EventLog } from '../event-log/event-log';
import { NAME_PATTERN } from '../event-log/names';
import { type PipelineDefinition, resolvePipeline } from '../pipeline/definition';
import { createSqsClient } from '../sqs/client';
import { PipelineStore } from '../state/pipeline-store';
import { Fetcher, type FetcherOptions } from './fetcher';

/**
 * The environment variables {@link fetcherFromEnvironment} reads, by what they set. The CDK construct
 * that deploys the fetcher sets them; nothing else is read from the environment except the AWS SDK's
 * own settings (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SQS`, credentials).
 *
 * @example
 * ```ts
 * fetcherFunction.addEnvironment(FETCHER_ENVIRONMENT.eventLogTable, eventLog.table.tableName);
 * ```
 */
export const FETCHER_ENVIRONMENT = {
  /** Required: the event log's DynamoDB table. */
  eventLogTable: 'SLUICE_EVENT_LOG_TABLE',
  /** Required: the state table (pipelines, checkpoints, leases, runs). */
  stateTable: 'SLUICE_STATE_TABLE',
  /** How far behind now the fetcher reads, in milliseconds. @default 1500 */
  settleWindowMs: 'SLUICE_SETTLE_WINDOW_MS',
  /** Pipeline names separated by commas, to work only those. @default every registered pipeline */
  pipelines: 'SLUICE_PIPELINES',
  /** How long a pipeline's lease lasts without renewal, in milliseconds. @default 60000 */
  leaseDurationMs: 'SLUICE_LEASE_DURATION_MS',
  /** How long to wait between reads of the live edge, in milliseconds. @default 1000 */
  pollIntervalMs: 'SLUICE_POLL_INTERVAL_MS',
  /**
   * A JSON array of pipeline definitions to register before the first run (a registered pipeline
   * keeps its checkpoint). @default none
   */
  pipelineDefinitions: 'SLUICE_PIPELINE_DEFINITIONS',
  /** The EventBridge bus "Backfill Completed" events go to. @default none: they are not emitted */
  eventBusName: 'SLUICE_EVENT_BUS_NAME',
} as const;

/** The name of one of the {@link FETCHER_ENVIRONMENT} variables. */
export type FetcherEnvironmentVariable = (typeof FETCHER_ENVIRONMENT)[keyof typeof FETCHER_ENVIRONMENT];

/** The fetcher's settings as read from the environment; optional ones are absent when unset. */
export interface FetcherEnvironment {
  readonly eventLogTable: string;
  readonly stateTable: string;
  readonly settleWindowMs?: number;
  readonly pipelines?: readonly string[];
  readonly leaseDurationMs?: number;
  readonly pollIntervalMs?: number;
  readonly pipelineDefinitions?: readonly PipelineDefinition[];
  readonly eventBusName?: string;
}

/** The rule of pipeline names in pipeline definitions. */
const PIPELINE_NAME = NAME_PATTERN;
const PIPELINE_NAME_RULE =
  '1 to 128 letters, digits, dots, underscores or hyphens, starting with a letter or digit';

// The ranges the Fetcher and the EventLog accept, restated here so that a bad variable is reported by
// its own name, together with every other problem. The settle window must exceed the commit deadline
// of writers, which use the default.
const LEASE_DURATION_RANGE = { min: 1_000, max: 3_600_000 };
const POLL_INTERVAL_RANGE = { min: 10, max: 60_000 };
const SETTLE_WINDOW_RANGE = { min: DEFAULT_COMMIT_DEADLINE_MS + 1, max: 3_600_000 };

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads and checks the fetcher's {@link FETCHER_ENVIRONMENT} variables.
 *
 * @throws `ValidationError` listing every missing or malformed variable, each with the value given;
 * its `value` holds the variables as given.
 *
 * @example
 * ```ts
 * const { eventLogTable, stateTable, pipelines } = readFetcherEnvironment(process.env);
 * ```
 */
export function readFetcherEnvironment(env: Environment = process.env): FetcherEnvironment {
  const problems: string[] = [];
  const eventLogTable = readTableName(env, FETCHER_ENVIRONMENT.eventLogTable, 'the event log', problems);
  const stateTable = readTableName(env, FETCHER_ENVIRONMENT.stateTable, 'the state table', problems);
  const settleWindowMs = readMilliseconds(
    env,
    FETCHER_ENVIRONMENT.settleWindowMs,
    SETTLE_WINDOW_RANGE,
    problems,
    ` (above the commit deadline of ${DEFAULT_COMMIT_DEADLINE_MS} ms)`,
  );
  const pipelines = readPipelineNames(env, problems);
  const leaseDurationMs = readMilliseconds(
    env,
    FETCHER_ENVIRONMENT.leaseDurationMs,
    LEASE_DURATION_RANGE,
    problems,
  );
  const pollIntervalMs = readMilliseconds(
    env,
    FETCHER_ENVIRONMENT.pollIntervalMs,
    POLL_INTERVAL_RANGE,
    problems,
  );
  const pipelineDefinitions = readPipelineDefinitions(env, problems);
  const eventBusName = readEventBusName(env, problems);
  if (problems.length > 0 || eventLogTable === undefined || stateTable === undefined) {
    const given = Object.fromEntries(Object.values(FETCHER_ENVIRONMENT).map((name) => [name, env[name]]));
    throw new ValidationError(`invalid fetcher environment: ${problems.join('; ')}`, given);
  }
  return {
    eventLogTable,
    stateTable,
    ...(settleWindowMs === undefined ? {} : { settleWindowMs }),
    ...(pipelines === undefined ? {} : { pipelines }),
    ...(leaseDurationMs === undefined ? {} : { leaseDurationMs }),
    ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
    ...(pipelineDefinitions === undefined ? {} : { pipelineDefinitions }),
    ...(eventBusName === undefined ? {} : { eventBusName }),
  };
}

/**
 * Builds the {@link Fetcher} a Lambda function runs, from its environment variables (see
 * {@link FETCHER_ENVIRONMENT}): an `EventLog` and a `PipelineStore` sharing one DynamoDB client, and an
 * SQS client. The clients are built with the SDK's defaults, so their region, endpoints and credentials
 * come from the standard AWS variables of the process. Call it at module scope, so that a bad setting
 * fails the cold start rather than a run.
 *
 * @param env - where the variables are read. @default process.env
 * @param overrides - options laid over those the environment gives, such as a logger and metrics.
 * @throws `ValidationError` listing every missing or malformed variable, each with the value given.
 *
 * @example
 * ```ts
 * const logger = new Logger({ serviceName: 'sluice-fetcher' });
 * const fetcher = fetcherFromEnvironment(process.env, { logger });
 * export const handler = async () => fetcher.run({ budgetMs: 50_000 });
 * ```
 */
export function fetcherFromEnvironment(
  env: Environment = process.env,
  overrides?: Partial<FetcherOptions>,
): Fetcher {
  return fetcherRuntimeFromEnvironment(env, overrides).fetcher;
}

/** What {@link fetcherRuntimeFromEnvironment} builds: the fetcher, and what it is built on. */
export interface FetcherRuntime {
  readonly fetcher: Fetcher;
  /** The state table's store, on the same DynamoDB client as the fetcher. */
  readonly store: PipelineStore;
  readonly dynamodb: DynamoDBClient;
  readonly settings: FetcherEnvironment;
}

/**
 * Like {@link fetcherFromEnvironment}, and also returns the store, the DynamoDB client and the
 * settings, for functions that do more than run the fetcher (announcing completed backfills,
 * registering a backfill).
 *
 * @throws `ValidationError` listing every missing or malformed variable, each with the value given.
 *
 * @example
 * ```ts
 * const { fetcher, store, settings } = fetcherRuntimeFromEnvironment(process.env, { logger });
 * ```
 */
export function fetcherRuntimeFromEnvironment(
  env: Environment = process.env,
  overrides?: Partial<FetcherOptions>,
): FetcherRuntime {
  const settings = readFetcherEnvironment(env);
  const dynamodb = new DynamoDBClient({});
  const source = new EventLog({
    tableName: settings.eventLogTable,
    client: dynamodb,
    ...(settings.settleWindowMs === undefined ? {} : { settleWindowMs: settings.settleWindowMs }),
  });
  const store = new PipelineStore({ tableName: settings.stateTable, client: dynamodb });
  const fetcher = new Fetcher({
    store,
    source,
    sqs: createSqsClient(),
    ...(settings.pipelines === undefined ? {} : { pipelines: settings.pipelines }),
    ...(settings.leaseDurationMs === undefined ? {} : { leaseDurationMs: settings.leaseDurationMs }),
    ...(settings.pollIntervalMs === undefined ? {} : { pollIntervalMs: settings.pollIntervalMs }),
    ...(settings.pipelineDefinitions === undefined ? {} : { register: settings.pipelineDefinitions }),
    ...overrides,
  });
  return { fetcher, store, dynamodb, settings };
}

function readTableName(env: Environment, name: string, what: string, problems: string[]): string | undefined {
  const value = env[name];
  if (value === undefined) {
    problems.push(`${name} must be set to the name of ${what}'s DynamoDB table (it is not set)`);
    return undefined;
  }
  if (!TABLE_NAME_PATTERN.test(value)) {
    problems.push(
      `${name} must be a DynamoDB table name: 3 to 255 letters, digits, '_', '-' or '.' (given ${describe(value)})`,
    );
    return undefined;
  }
  return value;
}

function readMilliseconds(
  env: Environment,
  name: string,
  range: { min: number; max: number },
  problems: string[],
  why = '',
): number | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const number = /^[0-9]{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= range.min && number <= range.max)) {
    problems.push(
      `${name} must be a whole number of milliseconds from ${range.min} to ${range.max}${why} (given ${describe(value)})`,
    );
    return undefined;
  }
  return number;
}

function readPipelineNames(env: Environment, problems: string[]): string[] | undefined {
  const name = FETCHER_ENVIRONMENT.pipelines;
  const value = env[name];
  if (value === undefined) return undefined;
  const names = value.split(',').map((part) => part.trim());
  if (value.trim() === '' || names.some((part) => !PIPELINE_NAME.test(part))) {
    problems.push(
      `${name} must list pipeline names separated by commas, each ${PIPELINE_NAME_RULE}, or be left unset for every pipeline (given ${describe(value)})`,
    );
    return undefined;
  }
  return [...new Set(names)];
}

function readPipelineDefinitions(env: Environment, problems: string[]): PipelineDefinition[] | undefined {
  const name = FETCHER_ENVIRONMENT.pipelineDefinitions;
  const value = env[name];
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    problems.push(`${name} must be a JSON array of pipeline definitions: ${(error as Error).message}`);
    return undefined;
  }
  if (!Array.isArray(parsed)) {
    problems.push(`${name} must be a JSON array of pipeline definitions (given ${describe(parsed)})`);
    return undefined;
  }
  const before = problems.length;
  parsed.forEach((definition, index) => {
    try {
      resolvePipeline(definition);
    } catch (error) {
      problems.push(`${name}[${index}]: ${(error as Error).message}`);
    }
  });
  return problems.length === before ? (parsed as PipelineDefinition[]) : undefined;
}

/** EventBridge's rule for a bus name: 1 to 256 letters, digits, `.`, `-`, `_` or `/`. */
const EVENT_BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;

function readEventBusName(env: Environment, problems: string[]): string | undefined {
  const name = FETCHER_ENVIRONMENT.eventBusName;
  const value = env[name];
  if (value === undefined) return undefined;
  if (!EVENT_BUS_NAME.test(value)) {
    problems.push(
      `${name} must be an EventBridge bus name: 1 to 256 letters, digits, '.', '-', '_' or '/' (given ${describe(value)})`,
    );
    return undefined;
  }
  return value;
}
