import type {
  SendMessageBatchCommandInput,
  SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';

/**
 * Holds every SendMessageBatch call made through `client` for `delayMs(entries)` before sending it, and
 * tracks the most calls under way at once: a way to make calls overlap, and to see that they did.
 *
 * @example
 * ```ts
 * const held = holdSendMessageBatchCalls(client, () => 50);
 * await sendMessageBatches(client, queueUrl, messages, { callsInFlight: 3 });
 * held.peak(); // 3
 * ```
 */
export function holdSendMessageBatchCalls(
  client: SQSClient,
  delayMs: (entries: readonly SendMessageBatchRequestEntry[]) => number,
): { peak: () => number } {
  let underWay = 0;
  let peak = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'SendMessageBatchCommand') return next(args);
      underWay += 1;
      peak = Math.max(peak, underWay);
      try {
        const entries = (args.input as SendMessageBatchCommandInput).Entries ?? [];
        await new Promise((resolve) => setTimeout(resolve, delayMs(entries)));
        return await next(args);
      } finally {
        underWay -= 1;
      }
    },
    { step: 'initialize', priority: 'high', name: 'testHoldSendMessageBatchCalls' },
  );
  return { peak: () => peak };
}
