import { setTimeout as sleep } from 'node:timers/promises';
import type { EventLog, Position, StoredEvent } from '../../lib';
import { startPosition } from '../../lib/pipeline/definition';
import { BENCH_STREAM } from '../support/bench-events';

/** A loop that reads the event log from its beginning and hands each page on. */
export interface LogPump {
  /** Stops after the page in hand; resolves once the loop has ended. */
  stop(): Promise<void>;
}

/**
 * What a team without Sluice writes to move events from the log to a queue: read a page after the
 * last position (up to the settled horizon, as Sluice's fetcher does, so neither reads a late write
 * past), hand it to `onPage`, and poll the live edge every `pollIntervalMs` once caught up. It reads
 * through the same `EventLog.readAfter` as Sluice's fetcher, so the reads cost the same; the systems
 * differ in how they queue, checkpoint and consume.
 *
 * @example
 * ```ts
 * const pump = startLogPump(log, { pageSize: 500, onPage: async (events) => send(events) });
 * await pump.stop();
 * ```
 */
export function startLogPump(
  log: EventLog,
  options: {
    readonly pageSize: number;
    readonly pollIntervalMs?: number;
    readonly onPage: (events: readonly StoredEvent[], position: Position) => Promise<void>;
    readonly onError: (error: unknown) => void;
  },
): LogPump {
  let running = true;
  const loop = async () => {
    let position = startPosition('earliest', Date.now());
    while (running) {
      try {
        const page = await log.readAfter(BENCH_STREAM, position, { limit: options.pageSize });
        if (page.events.length > 0) await options.onPage(page.events, page.position);
        position = page.position;
        if (page.caughtUp) await sleep(options.pollIntervalMs ?? 1_000);
      } catch (error) {
        options.onError(error);
        await sleep(1_000);
      }
    }
  };
  const done = loop();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}
