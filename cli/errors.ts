/** Exit codes of the `sluice` command. */
export const EXIT_CODE = {
  ok: 0,
  /** The command ran and failed: AWS refused a call, a pipeline does not exist, input was malformed. */
  failed: 1,
  /** The command line is wrong: unknown command or option, bad or missing value. */
  usage: 2,
} as const;

/** A command line that cannot run as given; the message names the option and the value. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The one-line message of a failure: Sluice errors carry their own, AWS errors get their name in front. */
export function failureMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const fromAws = (error as { $metadata?: unknown }).$metadata !== undefined;
  const awsName = fromAws && error.name !== 'Error' ? error.name : undefined;
  const message = error.message || error.name;
  if (message === 'Region is missing')
    return `${message}: pass --region, or set AWS_REGION or a profile's region`;
  return awsName && !message.startsWith(awsName) ? `${awsName}: ${message}` : message;
}

/** Error codes of a request that never got an answer. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** A call that could not reach its endpoint, or got an answer that is not the service's. */
export class EndpointError extends Error {
  /** `DynamoDB` or `SQS`. */
  readonly service: string;
  readonly endpoint: string;

  constructor(service: string, endpoint: string, reason: string, options?: { cause?: unknown }) {
    super(`${service} at ${endpoint} ${reason}`, options);
    this.name = 'EndpointError';
    this.service = service;
    this.endpoint = endpoint;
  }
}

/**
 * The `EndpointError` a failed call's error stands for, naming the service and the endpoint, or
 * `undefined` for an error the service itself answered with (those name their problem already).
 *
 * @example
 * ```ts
 * endpointError('SQS', 'http://127.0.0.1:9', 'GetQueueAttributes', error); // EndpointError: SQS at ... cannot be reached
 * ```
 */
export function endpointError(
  service: string,
  endpoint: string,
  operation: string,
  error: unknown,
): EndpointError | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const hint =
    'is `sluice dev` running, and is the endpoint (--endpoint, --dynamodb-endpoint, --sqs-endpoint) right?';
  if ((typeof code === 'string' && NETWORK_CODES.has(code)) || error.name === 'TimeoutError')
    return new EndpointError(
      service,
      endpoint,
      `cannot be reached (${operation}: ${typeof code === 'string' ? code : error.message}): ${hint}`,
      { cause: error },
    );
  if (error.name === 'UnknownError' || error.message === 'UnknownError')
    return new EndpointError(
      service,
      endpoint,
      `answered ${operation} with something that is not a ${service} response${status ? ` (HTTP ${status})` : ''}: ${hint}`,
      { cause: error },
    );
  return undefined;
}
