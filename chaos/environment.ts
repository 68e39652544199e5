import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startDynamoDbLocal, startSqsEmulator } from '../lib/local';

/** Where the emulators listen. */
export interface ChaosEndpoints {
  readonly dynamodb: string;
  readonly sqs: string;
}

/** Emulators this process started. */
export interface RunningEmulators {
  readonly endpoints: ChaosEndpoints;
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * Starts DynamoDB Local and the SQS emulator on free loopback ports; `stop()` stops both by PID.
 *
 * @example
 * ```ts
 * const emulators = await startEmulators();
 * try { ... } finally { await emulators.stop(); }
 * ```
 */
export async function startEmulators(): Promise<RunningEmulators> {
  const started = await Promise.allSettled([startDynamoDbLocal(), startSqsEmulator()]);
  const [dynamodb, sqs] = started;
  if (dynamodb.status === 'rejected' || sqs.status === 'rejected') {
    await Promise.all(
      started.map((start) => (start.status === 'fulfilled' ? start.value.stop() : undefined)),
    );
    throw dynamodb.status === 'rejected' ? dynamodb.reason : (sqs as PromiseRejectedResult).reason;
  }
  return {
    endpoints: { dynamodb: dynamodb.value.endpoint, sqs: sqs.value.endpoint },
    pids: [dynamodb.value.pid, sqs.value.pid],
    stop: async () => {
      await Promise.all([dynamodb.value.stop(), sqs.value.stop()]);
    },
  };
}

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
