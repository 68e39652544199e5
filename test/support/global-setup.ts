import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, startSqsEmulator } from '../../lib/local';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    sqsEndpoint: string;
  }
}

/**
 * Starts DynamoDB Local and the SQS emulator on free loopback ports for the integration tier, and
 * stops both by PID afterwards. If either cannot start, the run fails: nothing is skipped.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [dynamodb, sqs] = await Promise.allSettled([
    startDynamoDbLocal({ fastStart: true }),
    startSqsEmulator(),
  ]);
  if (dynamodb.status === 'rejected' || sqs.status === 'rejected') {
    await Promise.all(
      [dynamodb, sqs].map((started) => (started.status === 'fulfilled' ? started.value.stop() : undefined)),
    );
    throw dynamodb.status === 'rejected' ? dynamodb.reason : (sqs as PromiseRejectedResult).reason;
  }
  project.provide('dynamodbEndpoint', dynamodb.value.endpoint);
  project.provide('sqsEndpoint', sqs.value.endpoint);
  return async () => {
    await Promise.all([dynamodb.value.stop(), sqs.value.stop()]);
  };
}
