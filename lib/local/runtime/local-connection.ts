import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type AwsClientSettings, awsClients } from '../aws-clients';
import { type EmulatorEndpoints, startEmulators } from '../emulators';
import type { CleanupStack } from './cleanup-stack';

/** The endpoints a local runtime works on, and the PIDs of the emulators it started for them. */
export interface LocalEmulators {
  readonly endpoints: EmulatorEndpoints;
  readonly pids: readonly number[];
}

/**
 * The endpoints given, or DynamoDB Local and the SQS emulator started on loopback ports when none
 * are, with their stop pushed onto `cleanups`.
 *
 * @example
 * ```ts
 * const { endpoints, pids } = await emulatorsUnlessGiven(options.endpoints, cleanups);
 * ```
 */
export async function emulatorsUnlessGiven(
  given: EmulatorEndpoints | undefined,
  cleanups: CleanupStack,
): Promise<LocalEmulators> {
  if (given !== undefined) return { endpoints: { dynamodb: given.dynamodb, sqs: given.sqs }, pids: [] };
  const emulators = await startEmulators();
  cleanups.push(() => emulators.stop());
  return { endpoints: emulators.endpoints, pids: [...emulators.pids] };
}

/**
 * A DynamoDB and an SQS client made by `awsClients`, destroyed by `cleanups`.
 *
 * @example
 * ```ts
 * const { dynamodb, sqs } = localClients({ endpoints }, cleanups);
 * ```
 */
export function localClients(
  settings: AwsClientSettings,
  cleanups: CleanupStack,
): { dynamodb: DynamoDBClient; sqs: SQSClient } {
  const clients = awsClients(settings);
  cleanups.push(() => {
    clients.dynamodb.destroy();
    clients.sqs.destroy();
  });
  return clients;
}
