import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { EmulatorEndpoints } from '../lib/local';

/** Where the emulators listen. */
export type ChaosEndpoints = EmulatorEndpoints;

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * A fresh pair of real SDK clients on the emulators. Each part of a scenario gets its own, so that
 * faults can be injected into one part's calls and not into the checker's.
 *
 * @example
 * ```ts
 * const { dynamodb, sqs } = awsClients(endpoints);
 * ```
 */
export function awsClients(endpoints: ChaosEndpoints): { dynamodb: DynamoDBClient; sqs: SQSClient } {
  return {
    dynamodb: new DynamoDBClient({
      endpoint: endpoints.dynamodb,
      region: 'us-east-1',
      credentials: CREDENTIALS,
    }),
    sqs: new SQSClient({
      endpoint: endpoints.sqs,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      useQueueUrlAsEndpoint: false,
    }),
  };
}
