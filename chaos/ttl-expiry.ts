import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  paginateScan,
} from '@aws-sdk/client-dynamodb';
import { ATTRIBUTES } from '../lib/event-log/constants';

/**
 * Deletes every item of an event table whose TTL has passed, as DynamoDB's TTL would (DynamoDB
 * Local never does). Resolves to the number of items deleted.
 */
export async function expireByTtl(dynamodb: DynamoDBClient, tableName: string): Promise<number> {
  const now = Math.floor(Date.now() / 1000);
  let deleted = 0;
  for await (const page of paginateScan(
    { client: dynamodb },
    {
      TableName: tableName,
      FilterExpression: '#expiresAt < :now',
      ExpressionAttributeNames: { '#expiresAt': ATTRIBUTES.expiresAt },
      ExpressionAttributeValues: { ':now': { N: String(now) } },
    },
  )) {
    for (const item of page.Items ?? []) {
      const key: Record<string, AttributeValue> = {
        [ATTRIBUTES.partitionKey]: item[ATTRIBUTES.partitionKey] as AttributeValue,
        [ATTRIBUTES.sortKey]: item[ATTRIBUTES.sortKey] as AttributeValue,
      };
      await dynamodb.send(new DeleteItemCommand({ TableName: tableName, Key: key }));
      deleted += 1;
    }
  }
  return deleted;
}
