import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';

/** The environment variables the AWS SDK reads an SQS endpoint from, most specific first. */
const ENDPOINT_VARIABLES = ['AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL'] as const;

/**
 * The SQS endpoint a client made with `config` sends to, when it is not AWS's: the `endpoint` given,
 * else `AWS_ENDPOINT_URL_SQS` or `AWS_ENDPOINT_URL` (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is
 * `true`, as the SDK does); `undefined` for AWS.
 *
 * @example
 * ```ts
 * configuredSqsEndpoint({}, { AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:4566' }); // 'http://127.0.0.1:4566'
 * ```
 */
export function configuredSqsEndpoint(
  config: Pick<SQSClientConfig, 'endpoint'> = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  if (typeof config.endpoint === 'string') return config.endpoint;
  if (config.endpoint !== undefined) return 'a custom endpoint';
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true') return undefined;
  for (const name of ENDPOINT_VARIABLES) if (env[name]) return env[name];
  return undefined;
}

/**
 * The settings of an SQS client: `config`, plus `useQueueUrlAsEndpoint: false` whenever SQS calls go
 * to an endpoint other than AWS's (given, or from the environment). The SDK otherwise sends each call
 * to the host of its queue URL, and an emulator's queue URLs (fauxqs hands out
 * `http://sqs.us-east-1.127.0.0.1:PORT/...`) are not URLs Node accepts: every call then logs
 * `TypeError: Invalid URL`, or goes to a host that does not exist. An explicit
 * `useQueueUrlAsEndpoint` in `config` wins.
 *
 * @example
 * ```ts
 * const sqs = new SQSClient(sqsClientConfig({ region: 'us-east-1' }));
 * ```
 */
export function sqsClientConfig(
  config: SQSClientConfig = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): SQSClientConfig {
  return configuredSqsEndpoint(config, env) === undefined
    ? config
    : { useQueueUrlAsEndpoint: false, ...config };
}

/**
 * An SQS client made with {@link sqsClientConfig}: the one way Sluice builds an SQS client it was not
 * given, so that clients built from the environment work against a local emulator too.
 *
 * @example
 * ```ts
 * const sqs = createSqsClient(); // reads AWS_ENDPOINT_URL_SQS, AWS_REGION, ... as the SDK does
 * ```
 */
export function createSqsClient(
  config: SQSClientConfig = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): SQSClient {
  return new SQSClient(sqsClientConfig(config, env));
}
