import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { type Command, CommanderError } from 'commander';
import { EventLog, PipelineStore } from '../lib';
import { createSqsClient } from '../lib/sqs/client';
import { EXIT_CODE, failureMessage, UsageError } from './errors';
import type { CliIo } from './io';

/** The options every command takes. */
export interface GlobalOptions {
  readonly eventLogTable?: string;
  readonly stateTable?: string;
  readonly endpoint?: string;
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
}

/** Region used against a local endpoint when none is configured: emulators accept any. */
const LOCAL_DEFAULT_REGION = 'us-east-1';

/**
 * Resolves the AWS settings: an option wins over the environment; `--endpoint` points both services
 * at one URL, else `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_SQS`, else `AWS_ENDPOINT_URL`.
 * With no profile, the static keys of the environment are used when set; otherwise the SDK's own
 * chain (profile, SSO, container or instance role) finds the credentials.
 */
export function awsSettings(options: GlobalOptions, env: CliIo['env']): AwsSettings {
  const dynamodbEndpoint = options.endpoint ?? env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  const sqsEndpoint = options.endpoint ?? env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL;
  const configuredRegion = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const region = configuredRegion ?? (dynamodbEndpoint || sqsEndpoint ? LOCAL_DEFAULT_REGION : undefined);
  const profile = options.profile ?? env.AWS_PROFILE;
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const credentials =
    profile === undefined && accessKeyId && secretAccessKey
      ? {
          accessKeyId,
          secretAccessKey,
          ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
        }
      : undefined;
  return {
    ...(region === undefined ? {} : { region }),
    ...(profile === undefined ? {} : { profile }),
    ...(dynamodbEndpoint ? { dynamodbEndpoint } : {}),
    ...(sqsEndpoint ? { sqsEndpoint } : {}),
    ...(credentials ? { credentials } : {}),
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
  ) {
    this.options = options;
    this.aws = awsSettings(options, io.env);
  }

  get json(): boolean {
    return this.options.json === true;
  }

  /** The event log table: `--event-log-table`, else `SLUICE_EVENT_LOG_TABLE`. */
  eventLogTable(): string {
    const name = this.options.eventLogTable ?? this.io.env.SLUICE_EVENT_LOG_TABLE;
    if (!name) {
      throw new UsageError(
        'no event log table given: pass --event-log-table <name> or set SLUICE_EVENT_LOG_TABLE',
      );
    }
    return name;
  }

  /** The state table: `--state-table`, else `SLUICE_STATE_TABLE`. */
  stateTable(): string {
    const name = this.options.stateTable ?? this.io.env.SLUICE_STATE_TABLE;
    if (!name) {
      throw new UsageError('no state table given: pass --state-table <name> or set SLUICE_STATE_TABLE');
    }
    return name;
  }

  eventLog(): EventLog {
    return new EventLog({ tableName: this.eventLogTable(), client: this.dynamodb() });
  }

  pipelineStore(): PipelineStore {
    return new PipelineStore({ tableName: this.stateTable(), client: this.dynamodb() });
  }

  dynamodb(): DynamoDBClient {
    this.dynamodbClient ??= new DynamoDBClient(this.clientConfig(this.aws.dynamodbEndpoint));
    return this.dynamodbClient;
  }

  sqs(): SQSClient {
    this.sqsClient ??= createSqsClient(this.clientConfig(this.aws.sqsEndpoint), this.io.env);
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
 * Runs a command's body with a context, and turns what it throws into a message on stderr and an exit
 * code: 2 for a `UsageError`, 1 for any other failure. Never prints a stack trace.
 */
export async function runAction(
  command: Command,
  io: CliIo,
  body: (context: CliContext) => Promise<void>,
): Promise<void> {
  const context = new CliContext(io, command.optsWithGlobals<GlobalOptions>());
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
