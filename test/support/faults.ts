import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Makes a share of a client's calls fail with a throttling error before they are sent, as AWS does
 * under load, which the emulators never do. Added at the `initialize` step of the client's own
 * middleware stack, outside the SDK's retries, so the caller's retry logic is what gets tested.
 * Seeded: the same seed fails the same calls.
 */
export function throttleSomeCalls(
  client: DynamoDBClient | SQSClient,
  options: { rate: number; random: () => number; commands?: readonly string[] },
): { readonly injected: () => number } {
  let injected = 0;
  (client as DynamoDBClient).middlewareStack.add(
    (next, context) => async (args) => {
      const eligible = !options.commands || options.commands.includes(context.commandName ?? '');
      if (eligible && options.random() < options.rate) {
        injected += 1;
        throw Object.assign(new Error('Rate exceeded (injected)'), {
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 },
          $retryable: { throttling: true },
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'testThrottleSomeCalls', override: true },
  );
  return { injected: () => injected };
}
