import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MissingResourceError, type ResourceKind } from '../errors';

/**
 * `client.send`, except that DynamoDB's `ResourceNotFoundException` (which names no table) becomes a
 * `MissingResourceError` naming the table and what it is for. Every other error passes unchanged.
 *
 * @example
 * ```ts
 * const send = sendNamingTable(client, 'sluice-state', 'state table');
 * await send(new GetItemCommand({ TableName: 'sluice-state', Key: key }));
 * // throws: the state table 'sluice-state' does not exist (...): create it, or check its name, region and endpoint
 * ```
 */
export function sendNamingTable(
  client: DynamoDBClient,
  tableName: string,
  kind: ResourceKind,
): DynamoDBClient['send'] {
  const send = (command: unknown, options?: unknown) =>
    (client.send as (command: unknown, options?: unknown) => Promise<unknown>)
      .call(client, command, options)
      .catch((error: unknown) => {
        if ((error as { name?: unknown } | undefined)?.name === 'ResourceNotFoundException')
          throw new MissingResourceError(kind, tableName, { cause: error });
        throw error;
      });
  return send as unknown as DynamoDBClient['send'];
}
