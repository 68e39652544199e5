import { groupInOrder } from '../collections/in-order-groups';
import { MAX_TRANSACTION_ITEMS } from '../event-log/constants';

/** The most output events one chunk holds: a transaction's actions, less the marker's. */
export const MAX_OUTPUTS_PER_CHUNK = MAX_TRANSACTION_ITEMS - 1;

/**
 * Splits the events of a message that are to be recorded into chunks, in order, each with at most
 * {@link MAX_OUTPUTS_PER_CHUNK} output events, so that a chunk's outputs and the message's marker fit
 * in one DynamoDB transaction. An event's outputs are never split: they land with its
 * acknowledgement, all or none. An event with more outputs than that gets a chunk of its own (its
 * commit is then refused, and it goes to the failed handler). Events without outputs join the chunk
 * at hand. A chunk that proves too large in bytes is halved by the caller when the commit says so.
 *
 * @example
 * ```ts
 * planChunks(events, (event) => outputs.get(event.id)?.length ?? 0); // 100 events with 2 outputs each: 49 + 49 + 2
 * ```
 */
export function planChunks<T>(events: readonly T[], outputCount: (event: T) => number): T[][] {
  return groupInOrder(events, outputCount, { maxWeight: MAX_OUTPUTS_PER_CHUNK });
}
