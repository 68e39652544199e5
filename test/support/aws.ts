import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';

export {
  createQueueWithDeadLetterQueue,
  createStreamTable,
  type QueueWithDeadLetterQueue,
  uniqueName,
} from './resources';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A real DynamoDB client pointed at the DynamoDB Local the global setup started. */
export function dynamodbClient(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1', credentials });
}

/** A real SQS client pointed at the SQS emulator the global setup started. */
export function sqsClient(): SQSClient {
  return new SQSClient({
    endpoint: inject('sqsEndpoint'),
    region: 'us-east-1',
    credentials,
    useQueueUrlAsEndpoint: false,
  });
}
