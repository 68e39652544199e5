import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../sqs/client';

/**
 * Credentials for emulators: they accept any, and need some to sign requests. Clients get a copy each
 * (the SDK writes into the credentials object it is given).
 */
export const LOCAL_CREDENTIALS: { readonly accessKeyId: string; readonly secretAccessKey: string } = {
  accessKeyId: 'local',
  secretAccessKey: 'local',
};

/** The region used against emulators when none is given: they accept any. */
export const LOCAL_REGION = 'us-east-1';

/** Where {@link awsClients} points its clients, and as whom. */
export interface AwsClientSettings {
  /** Endpoints other than AWS's, such as the emulators'. @default AWS's (or the environment's) */
  readonly endpoints?: { readonly dynamodb?: string; readonly sqs?: string };
  /** @default {@link LOCAL_REGION} when an endpoint is given, else the SDK's chain */
  readonly region?: string;
  /** @default {@link LOCAL_CREDENTIALS} when an endpoint is given, else the SDK's chain */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
}

/**
 * A DynamoDB and an SQS client for the local runtime: on the endpoints given (with a region and dummy
 * credentials unless others are given), else on AWS through the SDK's own chains. The SQS client is
 * made by `createSqsClient`, so it sends to its endpoint rather than to the host of an emulator's queue
 * URL.
 *
 * @example
 * ```ts
 * const { dynamodb, sqs } = awsClients({ endpoints: emulators.endpoints });
 * ```
 */
export function awsClients(settings: AwsClientSettings = {}): { dynamodb: DynamoDBClient; sqs: SQSClient } {
  const { dynamodb: dynamodbEndpoint, sqs: sqsEndpoint } = settings.endpoints ?? {};
  const local = dynamodbEndpoint !== undefined || sqsEndpoint !== undefined;
  const region = settings.region ?? (local ? LOCAL_REGION : undefined);
  const credentials = settings.credentials ?? (local ? LOCAL_CREDENTIALS : undefined);
  const common = {
    ...(region ? { region } : {}),
    ...(credentials ? { credentials: { ...credentials } } : {}),
  };
  return {
    dynamodb: new DynamoDBClient({ ...common, ...(dynamodbEndpoint ? { endpoint: dynamodbEndpoint } : {}) }),
    sqs: createSqsClient({ ...common, ...(sqsEndpoint ? { endpoint: sqsEndpoint } : {}) }),
  };
}
