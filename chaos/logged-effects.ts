import type { EventLog } from '../lib';
import type { ChaosData } from './event-kinds';

/**
 * The effects the worker committed, read back from their stream: the source event of each effect and
 * each part beyond it (`source#part`), repeats kept, in log order.
 *
 * @example
 * ```ts
 * const { effects, parts } = await readEffects(eventLog, 'orders-effects');
 * ```
 */
export async function readEffects(
  eventLog: EventLog,
  stream: string,
): Promise<{ effects: string[]; parts: string[] }> {
  const effects: string[] = [];
  const parts: string[] = [];
  for await (const event of eventLog.events<{ source: string; part?: number }>(stream)) {
    if (event.data.part) parts.push(`${event.data.source}#${event.data.part}`);
    else effects.push(event.data.source);
  }
  return { effects, parts };
}

/** The source event of every failed effect the failed handler committed, repeats kept. */
export async function readHandedOver(eventLog: EventLog, stream: string): Promise<string[]> {
  const handedOver: string[] = [];
  for await (const event of eventLog.events<{ source: string }>(stream)) handedOver.push(event.data.source);
  return handedOver;
}

/**
 * What the source stream holds beyond its ids: each event's partition key (when `withPartitionKeys`,
 * as on a FIFO pipeline) and the producer's own key (its number) of every order, repeats kept.
 */
export async function readSourceKeys(
  eventLog: EventLog,
  stream: string,
  withPartitionKeys: boolean,
): Promise<{ partitionKeys: Map<string, string>; producerKeys: string[] }> {
  const partitionKeys = new Map<string, string>();
  const producerKeys: string[] = [];
  for await (const event of eventLog.events<ChaosData>(stream)) {
    if (event.partitionKey && withPartitionKeys) partitionKeys.set(event.id, event.partitionKey);
    if (event.type === 'order') producerKeys.push(String(event.data.n));
  }
  return { partitionKeys, producerKeys };
}
