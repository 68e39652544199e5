import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_BUNDLE } from './lambda-bundle';

/** The Lambda runtime of every Sluice function: the newest Node.js that Lambda runs. */
export const SLUICE_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Properties of a {@link SluiceFunction}. */
export interface SluiceFunctionProps {
  /** The TypeScript or JavaScript file to bundle. */
  readonly entry: string;
  /** @default 'handler' */
  readonly handler?: string;
  readonly description: string;
  readonly timeout: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  readonly environment: Record<string, string>;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One of a pipeline's Lambda functions, set up the same way: bundled with the locally installed
 * esbuild (no Docker) as a minified ES module for Node.js 24 on arm64, with the AWS SDK left to the
 * runtime and source maps on; its own log group with a retention; and its own role that may write to
 * that log group and nothing else until it is granted more (no AWS managed policy).
 *
 * @example
 * ```ts
 * const fetcher = new SluiceFunction(this, 'Fetcher', {
 *   entry: 'functions/fetcher.ts',
 *   description: 'Pages the event log into the queue',
 *   timeout: Duration.minutes(1),
 *   environment: { SLUICE_STATE_TABLE: state.table.tableName },
 * });
 * ```
 */
export class SluiceFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SluiceFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: props.handler ?? 'handler',
      description: props.description,
      runtime: SLUICE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize ?? 256,
      role: this.role,
      logGroup: this.logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        format: OutputFormat.ESM,
        target: LAMBDA_BUNDLE.target,
        mainFields: [...LAMBDA_BUNDLE.mainFields],
        minify: LAMBDA_BUNDLE.minify,
        sourceMap: true,
        externalModules: [...LAMBDA_BUNDLE.external],
        banner: LAMBDA_BUNDLE.banner.js,
      },
    });
  }
}
