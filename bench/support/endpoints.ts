/** Where the shared emulators listen. */
export interface Endpoints {
  readonly dynamodb: string;
  readonly sqs: string;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * SDK client settings for an emulator: its endpoint, a region and dummy credentials.
 *
 * @example
 * ```ts
 * const sqs = new SQSClient(localClientConfig(endpoints.sqs));
 * ```
 */
export function localClientConfig(endpoint: string): {
  endpoint: string;
  region: string;
  credentials: typeof LOCAL_CREDENTIALS;
  useQueueUrlAsEndpoint: false;
} {
  return { endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, useQueueUrlAsEndpoint: false };
}
