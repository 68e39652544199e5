import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { type Command, CommanderError } from 'commander';
import { EventLog } from '../lib';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../lib/local/aws-clients';
import { SLUICE_VARIABLES } from '../lib/settings/variables';
import { createSqsClient } from '../lib/sqs/client';
import { PipelineStore } from '../lib/state/pipeline-store';
import { type FoundDevState, readDevState } from './dev-state';
import { EXIT_CODE, endpointError, failureMessage, UsageError } from './errors';
import type { CliIo } from './io';

/** The options every command takes. */
export interface GlobalOptions {
  readonly eventLogTable?: string;
  readonly stateTable?: string;
  readonly endpoint?: string;
  readonly dynamodbEndpoint?: string;
  readonly sqsEndpoint?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly json?: boolean;
}

/** Where the AWS clients point, resolved from the options and the environment as the AWS CLI does. */
export interface AwsSettings {
  readonly region?: string;
  readonly profile?: string;
  readonly dynamodbEndpoint?: string;
  readonly sqsEndpoint?: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Set when the endpoints (and tables) come from a running `sluice dev`. */
  readonly devState?: FoundDevState;
}

/** Region used against a local endpoint when none is configured: emulators accept any. */
const LOCAL_DEFAULT_REGION = LOCAL_REGION;

/**
 * Whether an endpoint is on this machine (`localhost`, `127.x.x.x`, `::1`): emulators, which take
 * any credentials.
 *
 * @example
 * ```ts
 * isLocalEndpoint('http://127.0.0.1:8000'); // true
 * ```
 */
export function isLocalEndpoint(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1';
  } catch {
    return false;
  }
}

/**
 * Resolves the AWS settings. Per service, the first of: `--dynamodb-endpoint` / `--sqs-endpoint`,
 * `--endpoint` (both services), `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_SQS`,
 * `AWS_ENDPOINT_URL`; when none is set for either service, the endpoints of a `sluice dev` running in
 * the project (`devState`). With no profile, the static keys of the environment are used when set;
 * against endpoints that are all on this machine, dummy keys otherwise; else the SDK's own chain
 * (profile, SSO, container or instance role) finds the credentials.
 */
export function awsSettings(
  options: GlobalOptions,
  env: CliIo['env'],
  devState?: FoundDevState,
): AwsSettings {
  const given = {
    dynamodb:
      options.dynamodbEndpoint ?? options.endpoint ?? env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL,
    sqs: options.sqsEndpoint ?? options.endpoint ?? env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL,
  };
  const fromDev = !given.dynamodb && !given.sqs ? devState : undefined;
  const dynamodbEndpoint = given.dynamodb || fromDev?.state.endpoints.dynamodb;
  const sqsEndpoint = given.sqs || fromDev?.state.endpoints.sqs;
  const configuredRegion = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const region =
    configuredRegion ??
    fromDev?.state.region ??
    (dynamodbEndpoint || sqsEndpoint ? LOCAL_DEFAULT_REGION : undefined);
  const profile = options.profile ?? env.AWS_PROFILE;
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const allLocal =
    dynamodbEndpoint !== undefined &&
    sqsEndpoint !== undefined &&
    isLocalEndpoint(dynamodbEndpoint) &&
    isLocalEndpoint(sqsEndpoint);
  const credentials =
    profile !== undefined
      ? undefined
      : accessKeyId && secretAccessKey
        ? {
            accessKeyId,
            secretAccessKey,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          }
        : allLocal
          ? { ...LOCAL_CREDENTIALS }
          : undefined;
  return {
    ...(region === undefined ? {} : { region }),
    ...(profile === undefined ? {} : { profile }),
    ...(dynamodbEndpoint ? { dynamodbEndpoint } : {}),
    ...(sqsEndpoint ? { sqsEndpoint } : {}),
    ...(credentials ? { credentials } : {}),
    ...(fromDev ? { devState: fromDev } : {}),
  };
}

/**
 * What a command works with: its options, its output, and AWS clients made on first use (so that a
 * command line rejected early never touches the network).
 */
export class CliContext {
  readonly options: GlobalOptions;
  readonly aws: AwsSettings;
  private dynamodbClient?: DynamoDBClient;
  private sqsClient?: SQSClient;

  constructor(
    readonly io: CliIo,
    options: GlobalOptions,
    settings: { readonly findDev?: boolean } = {},
  ) {
    this.options = options;
    const devState = settings.findDev === false ? undefined : readDevState(io.cwd ?? process.cwd());
    this.aws = awsSettings(options, io.env, devState);
  }

  get json(): boolean {
    return this.options.json === true;
  }

  /** The event log table: `--event-log-table`, else `SLUICE_EVENT_LOG_TABLE`, else that of `sluice dev`. */
  eventLogTable(): string {
    const name = this.optionalEventLogTable();
    if (!name) {
      throw new UsageError(
        'no event log table given: pass --event-log-table <name>, set SLUICE_EVENT_LOG_TABLE, or run `sluice dev` in this project',
      );
    }
    return name;
  }

  /** The state table: `--state-table`, else `SLUICE_STATE_TABLE`, else that of `sluice dev`. */
  stateTable(): string {
    const name =
      this.options.stateTable ??
      this.io.env[SLUICE_VARIABLES.stateTable] ??
      this.aws.devState?.state.stateTable;
    if (!name) {
      throw new UsageError(
        'no state table given: pass --state-table <name>, set SLUICE_STATE_TABLE, or run `sluice dev` in this project',
      );
    }
    return name;
  }

  /** The event log table when one is given (option, environment, or `sluice dev`), else `undefined`. */
  optionalEventLogTable(): string | undefined {
    return (
      this.options.eventLogTable ??
      this.io.env[SLUICE_VARIABLES.eventLogTable] ??
      this.aws.devState?.state.eventLogTable
    );
  }

  eventLog(): EventLog {
    return new EventLog({ tableName: this.eventLogTable(), client: this.dynamodb() });
  }

  pipelineStore(): PipelineStore {
    return new PipelineStore({ tableName: this.stateTable(), client: this.dynamodb() });
  }

  dynamodb(): DynamoDBClient {
    this.dynamodbClient ??= namingEndpoint(
      new DynamoDBClient(this.clientConfig(this.aws.dynamodbEndpoint)),
      'DynamoDB',
    );
    return this.dynamodbClient;
  }

  sqs(): SQSClient {
    this.sqsClient ??= namingEndpoint(
      createSqsClient(this.clientConfig(this.aws.sqsEndpoint), this.io.env),
      'SQS',
    );
    return this.sqsClient;
  }

  /** Writes one line to stdout. */
  print(line: string): void {
    this.io.stdout.write(`${line}\n`);
  }

  /** Writes a value as JSON to stdout. */
  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Releases the clients' connections. */
  close(): void {
    this.dynamodbClient?.destroy();
    this.sqsClient?.destroy();
  }

  private clientConfig(endpoint: string | undefined): DynamoDBClientConfig & SQSClientConfig {
    return {
      ...(this.aws.region ? { region: this.aws.region } : {}),
      ...(this.aws.profile ? { profile: this.aws.profile } : {}),
      ...(this.aws.credentials ? { credentials: this.aws.credentials } : {}),
      ...(endpoint ? { endpoint } : {}),
    };
  }
}

/**
 * Makes a client's calls that cannot reach their endpoint (or reach something else) fail with an
 * `EndpointError` naming the service and the endpoint, instead of `ECONNREFUSED` or `UnknownError`.
 */
function namingEndpoint<T extends DynamoDBClient | SQSClient>(client: T, service: string): T {
  (client as DynamoDBClient).middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const endpoint =
          (context as { endpointV2?: { url?: URL } }).endpointV2?.url?.origin ?? 'its endpoint';
        const operation = String(context.commandName ?? 'a call').replace(/Command$/, '');
        throw endpointError(service, endpoint, operation, error) ?? error;
      }
    },
    { step: 'initialize', name: 'sluiceNameEndpoint' },
  );
  return client;
}

/**
 * Runs a command's body with a context, and turns what it throws into a message on stderr and an exit
 * code: 2 for a `UsageError`, 1 for any other failure. Never prints a stack trace.
 */
export async function runAction(
  command: Command,
  io: CliIo,
  body: (context: CliContext) => Promise<void>,
  settings: { readonly findDev?: boolean } = {},
): Promise<void> {
  const context = new CliContext(io, command.optsWithGlobals<GlobalOptions>(), settings);
  const found = context.aws.devState;
  if (found && !context.json)
    io.stderr.write(
      `Using sluice dev (${found.path}): DynamoDB ${found.state.endpoints.dynamodb}, SQS ${found.state.endpoints.sqs}\n`,
    );
  try {
    await body(context);
  } catch (error) {
    if (error instanceof CommanderError) throw error;
    if (error instanceof UsageError) {
      command.error(`error: ${error.message}`, { exitCode: EXIT_CODE.usage, code: 'sluice.usage' });
    }
    command.error(`error: ${failureMessage(error)}`, { exitCode: EXIT_CODE.failed, code: 'sluice.failed' });
  } finally {
    context.close();
  }
}
