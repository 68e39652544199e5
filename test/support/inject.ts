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
