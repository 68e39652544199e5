import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  answerStreamTimingRequest,
  type StreamTimingResourceRequest,
} from '../lib/event-log/stream-timing-resource';

const client = new DynamoDBClient({});

/**
 * The custom resource function of `EventLog.declareStreamTiming`: stores a stream's declared settle
 * window and commit deadline with the stream at deploy, and fails the deploy, naming both timings,
 * when the stream already has another.
 *
 * @example
 * ```ts
 * new CustomResource(this, 'StreamTiming-orders', { serviceToken: fn.functionArn, properties });
 * ```
 */
export const handler = async (request: StreamTimingResourceRequest) => {
  const outcome = await answerStreamTimingRequest(request, client);
  if (outcome.status === 'FAILED') console.error(outcome.reason);
  return outcome;
};
