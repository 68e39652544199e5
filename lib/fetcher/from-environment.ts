import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, ValidationError } from '../errors';
import { DEFAULT_COMMIT_DEADLINE_MS } from '../event-log/constants';
import { EventLog } from '../event-log/event-log';
import { NAME_PATTERN } from '../event-log/names';
import { type PipelineDefinition, resolvePipeline } from '../pipeline/definition';
import { FETCHER_SETTINGS } from '../settings/fetcher-settings';
import { type Environment, matching, milliseconds, readVariable, tableName } from '../settings/read-variable';
import { FETCHER_ENVIRONMENT } from '../settings/variables';
import { createSqsClient } from '../sqs/client';
import { PipelineStore } from '../state/pipeline-store';
import { Fetcher, type FetcherOptions } from './fetcher';

/** The variables {@link fetcherFromEnvironment} reads: see the settings module. */
export { FETCHER_ENVIRONMENT };

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

const { leaseDurationMs: LEASE, pollIntervalMs: POLL, settleWindowMs: SETTLE } = FETCHER_SETTINGS;

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
  const eventLogTable = readVariable(env, FETCHER_ENVIRONMENT.eventLogTable, tableName(), problems, {
    required: true,
  });
  const stateTable = readVariable(env, FETCHER_ENVIRONMENT.stateTable, tableName(), problems, {
    required: true,
  });
  const settleWindowMs = readVariable(
    env,
    FETCHER_ENVIRONMENT.settleWindowMs,
    milliseconds(SETTLE, ` (above the commit deadline of ${DEFAULT_COMMIT_DEADLINE_MS} ms)`),
    problems,
  );
  const pipelines = readPipelineNames(env, problems);
  const leaseDurationMs = readVariable(
    env,
    FETCHER_ENVIRONMENT.leaseDurationMs,
    milliseconds(LEASE),
    problems,
  );
  const pollIntervalMs = readVariable(env, FETCHER_ENVIRONMENT.pollIntervalMs, milliseconds(POLL), problems);
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
  return readVariable(
    env,
    FETCHER_ENVIRONMENT.eventBusName,
    matching(EVENT_BUS_NAME, "an EventBridge bus name: 1 to 256 letters, digits, '.', '-', '_' or '/'"),
    problems,
  );
}
