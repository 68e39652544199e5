import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Holds chosen DynamoDB requests back before they are sent: a slow network or a stalled writer, which
 * the emulator cannot produce by itself. Added through the client's own middleware stack, so the
 * request still goes through the real SDK (and its abort handling) to the real emulator.
 */
export function delayRequests(
  client: DynamoDBClient,
  commands: readonly string[],
  delayMs: () => number,
): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (commands.includes(context.commandName ?? ''))
        await new Promise((resolve) => setTimeout(resolve, delayMs()));
      return next(args);
    },
    { step: 'finalizeRequest', name: 'testDelayRequests', override: true },
  );
}

/**
 * Counts the queries a DynamoDB client sends and the items they examined (`ScannedCount`), to check
 * how much work a read does; `take()` returns the counts since the last take and starts again.
 */
export function countQueries(client: DynamoDBClient): { take(): { queries: number; items: number } } {
  let counts = { queries: 0, items: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const output = await next(args);
      if (context.commandName === 'QueryCommand') {
        counts.queries += 1;
        counts.items += (output.output as { ScannedCount?: number }).ScannedCount ?? 0;
      }
      return output;
    },
    { step: 'initialize', name: 'testCountQueries', override: true },
  );
  return {
    take() {
      const taken = counts;
      counts = { queries: 0, items: 0 };
      return taken;
    },
  };
}
