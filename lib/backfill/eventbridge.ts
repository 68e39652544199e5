import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SluiceError } from '../errors';
import type { PutBackfillEvents } from './types';

/**
 * Puts backfill events on an EventBridge bus with `PutEvents`. EventBridge answers 200 even when it
 * refuses some entries, so each entry's result is checked: any refusal throws, naming the entry's
 * detail type and EventBridge's error code and message, so the caller tries again.
 *
 * @example
 * ```ts
 * const putEvents = eventBridgePutEvents(new EventBridgeClient({}), 'default');
 * await emitCompletedBackfills(store, { client: dynamodb, putEvents });
 * ```
 */
export function eventBridgePutEvents(client: EventBridgeClient, eventBusName: string): PutBackfillEvents {
  return async (entries) => {
    if (entries.length === 0) return;
    const output = await client.send(
      new PutEventsCommand({
        Entries: entries.map((entry) => ({
          EventBusName: eventBusName,
          Source: entry.source,
          DetailType: entry.detailType,
          Detail: JSON.stringify(entry.detail),
        })),
      }),
    );
    const refused = (output.Entries ?? [])
      .map((result, index) => ({ result, entry: entries[index] }))
      .filter(({ result }) => result.ErrorCode !== undefined);
    if ((output.FailedEntryCount ?? 0) > 0 || refused.length > 0) {
      const reasons = refused.map(({ result, entry }) =>
        `"${entry?.detailType}": ${result.ErrorCode} ${result.ErrorMessage ?? ''}`.trim(),
      );
      throw new SluiceError(
        `EventBridge bus ${eventBusName} refused ${output.FailedEntryCount ?? refused.length} of ${entries.length} events: ${reasons.join('; ')}`,
      );
    }
  };
}
