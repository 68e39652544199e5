import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readStreamTiming } from '../event-log/stream-timing';

/**
 * Each stream's settle window as stored with the stream, read once per stream and kept (a stream's
 * timing never changes in place); a stream with no timing yet, or a failed read, is asked again next
 * time.
 *
 * @example
 * ```ts
 * const settleWindowMsOf = storedSettleWindows(dynamodb, 'sluice-events');
 * await settleWindowMsOf('orders'); // 1500
 * ```
 */
export function storedSettleWindows(
  client: DynamoDBClient,
  tableName: string,
): (stream: string) => Promise<number | undefined> {
  const known = new Map<string, number>();
  return async (stream) => {
    const cached = known.get(stream);
    if (cached !== undefined) return cached;
    const timing = await readStreamTiming(client, tableName, stream);
    if (timing) known.set(stream, timing.settleWindowMs);
    return timing?.settleWindowMs;
  };
}
