import type { EventInput } from '../../lib';
import { PAYLOAD_BYTES, type Payload, type PayloadData, payloadData } from './payloads';

/** The stream every system's events are committed to. */
export const BENCH_STREAM = 'bench';
export const BENCH_EVENT_TYPE = 'bench.event';
/** Each event's data, as JSON, is about this size (the realistic payload's mean, the other's exact size). */
export const EVENT_BYTES = PAYLOAD_BYTES;

/** A benchmark event's data: its number `n`, and an order (realistic) or random bytes (incompressible). */
export type BenchEventData = PayloadData;

/**
 * The `n`th benchmark event of a payload: the same for every system and every run. Every system
 * commits (or sends) the realistic payload; the storage-cost runs commit both.
 *
 * @example
 * ```ts
 * benchEvent(7); // { stream: 'bench', type: 'bench.event', data: { n: 7, orderId: 'ord_...', ... } }
 * benchEvent(7, 'incompressible'); // { ..., data: { n: 7, blob: '...' } }
 * ```
 */
export function benchEvent(n: number, payload: Payload = 'realistic'): EventInput<BenchEventData> {
  return { stream: BENCH_STREAM, type: BENCH_EVENT_TYPE, data: payloadData(payload, n) };
}
