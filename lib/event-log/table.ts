import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { ATTRIBUTES } from './constants';

/**
 * The DynamoDB table the event log needs: string hash key `pk`, string range key `sk`, TTL on
 * `expiresAt`. The `EventLog` CDK construct creates the same table; this one is for scripts, tests and
 * the local runtime.
 *
 * @example
 * ```ts
 * await dynamodb.send(new CreateTableCommand(eventLogTableDefinition('sluice-events')));
 * ```
 */
export function eventLogTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: ATTRIBUTES.partitionKey, AttributeType: 'S' },
      { AttributeName: ATTRIBUTES.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: ATTRIBUTES.partitionKey, KeyType: 'HASH' },
      { AttributeName: ATTRIBUTES.sortKey, KeyType: 'RANGE' },
    ],
  };
}

/** The attribute that holds an item's expiry time, in epoch seconds, for DynamoDB TTL. */
export const EVENT_LOG_TTL_ATTRIBUTE = ATTRIBUTES.expiresAt;
