import { startDynamoDbLocal } from './dynamodb-local';
import { startSqsEmulator } from './sqs-emulator';

/** Where the emulators listen. */
export interface EmulatorEndpoints {
  readonly dynamodb: string;
  readonly sqs: string;
}

/** DynamoDB Local and the SQS emulator, started together. */
export interface RunningEmulators {
  readonly endpoints: EmulatorEndpoints;
  /** DynamoDB Local's, then the SQS emulator's. */
  readonly pids: readonly [number, number];
  /** Stops both by PID. */
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local and the SQS emulator side by side on free loopback ports. If either fails to
 * start, the other is stopped before the error is thrown, so that no process is left behind to keep
 * this one alive.
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
