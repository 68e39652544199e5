import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { attributeKey, pipelineStateKey } from '../state/keys';
import {
  LEASE_VIEW_ATTRIBUTES,
  LOCKED_LEASE_ACTION,
  leaseViewOf,
  lockedLeaseAction,
} from '../state/lease-hand-over';
import type { WakeRoute } from './wake-routes';

/**
 * The waker's `leftToHolder` on AWS: one strongly consistent `GetItem` of the route's pipeline
 * state, read after the records' events landed; true when a run holds the lease, is not leaving and
 * looks for unread events before it leaves, so that it reads them without a wake-up (the same test a
 * woken run makes, `lockedLeaseAction`). False for a route without a state table.
 *
 * @example
 * ```ts
 * const waker = new Waker({ routes, wake, leftToHolder: leaseHolderWillRead(new DynamoDBClient({})) });
 * ```
 */
export function leaseHolderWillRead(
  client: DynamoDBClient,
  clock: () => number = Date.now,
): (route: WakeRoute) => Promise<boolean> {
  return async (route) => {
    if (route.stateTable === undefined) return false;
    const names = Object.fromEntries(LEASE_VIEW_ATTRIBUTES.map((name, index) => [`#a${index}`, name]));
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: route.stateTable,
        Key: attributeKey(pipelineStateKey(route.pipeline)),
        ConsistentRead: true,
        ProjectionExpression: Object.keys(names).join(', '),
        ExpressionAttributeNames: names,
      }),
    );
    return lockedLeaseAction(Item && leaseViewOf(Item), clock()) === LOCKED_LEASE_ACTION.handOver;
  };
}
