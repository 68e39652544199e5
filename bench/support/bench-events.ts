import type { EventInput } from '../../lib';

/** The stream every system's events are committed to. */
export const BENCH_STREAM = 'bench';
export const BENCH_EVENT_TYPE = 'bench.event';
/** Each event's stored JSON is about this size. */
export const EVENT_BYTES = 1_024;

/** A benchmark event's data: its number, and filler up to about 1 KB. */
export interface BenchEventData {
  readonly n: number;
  readonly filler: string;
}

/**
 * The `n`th benchmark event: the same for every system. The filler is varied (not one repeated
 * character) so that nothing downstream could compress it to nothing.
 *
 * @example
 * ```ts
 * benchEvent(7); // { stream: 'bench', type: 'bench.event', data: { n: 7, filler: '...' } }
 * ```
 */
export function benchEvent(n: number): EventInput<BenchEventData> {
  const overhead = JSON.stringify({ n, filler: '' }).length;
  const seed = (n * 2_654_435_761) >>> 0;
  let filler = '';
  for (let index = 0; filler.length < EVENT_BYTES - overhead; index += 1)
    filler += ((seed + index * 40_503) >>> 0).toString(36);
  return {
    stream: BENCH_STREAM,
    type: BENCH_EVENT_TYPE,
    data: { n, filler: filler.slice(0, EVENT_BYTES - overhead) },
  };
}
