import { setTimeout as sleep } from 'node:timers/promises';
import { FIRST_LIVE_EVENT } from './handled-tracker';

/**
 * Sends `eventsPerSecond × seconds` live events, one at a time on a steady clock (not as fast as it
 * can), each numbered from `FIRST_LIVE_EVENT`. Resolves to how many were sent.
 *
 * @example
 * ```ts
 * await produceLive({ eventsPerSecond: 20, seconds: 10 }, (n) => log.commit(benchEvent(n)));
 * ```
 */
export async function produceLive(
  rate: { readonly eventsPerSecond: number; readonly seconds: number },
  send: (n: number) => Promise<unknown>,
): Promise<number> {
  const count = Math.round(rate.eventsPerSecond * rate.seconds);
  const intervalMs = 1_000 / rate.eventsPerSecond;
  const startedAt = Date.now();
  const sends: Promise<unknown>[] = [];
  for (let index = 0; index < count; index += 1) {
    const due = startedAt + index * intervalMs;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    sends.push(send(FIRST_LIVE_EVENT + index));
  }
  await Promise.all(sends);
  return count;
}
