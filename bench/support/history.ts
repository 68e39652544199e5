import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventLog } from '../../lib';
import { eventLogTableDefinition } from '../../lib/event-log/table';
import { EventIdGenerator } from '../../lib/time/event-id';
import { TIME_BUCKET_MS } from '../../lib/time/time-bucket';
import { type RequestCounts, RequestMeter, type TableUnits } from '../meter/request-meter';
import { benchEvent } from './bench-events';
import { type Endpoints, localClientConfig } from './endpoints';
import type { Payload } from './payloads';

/**
 * How a producer commits: `log.commit(event)` one event at a time, `log.commit(events)` 100 at a
 * time (atomically), or `log.commitBatched(events)` all at once.
 */
export const PRODUCERS = ['single', 'batch100', 'commitBatched'] as const;
export type Producer = (typeof PRODUCERS)[number];

/** Options of {@link loadHistory}. */
export interface LoadHistoryOptions {
  readonly endpoints: Endpoints;
  /** Created here. */
  readonly tableName: string;
  readonly events: number;
  /** The events are spread evenly over this many past hours, so they fill as many time buckets. */
  readonly hours: number;
  /** @default 'realistic' */
  readonly payload?: Payload;
  /** @default 'batch100' */
  readonly producer?: Producer;
  /** Commits running at once (`commitBatched` runs at its own default of 16). @default 4 */
  readonly concurrency?: number;
  /**
   * The stream's settle window and commit deadline. The first commit stores them with the stream,
   * and every later writer and reader of it must use the same, so give the system's own.
   * @default the event log's defaults
   */
  readonly streamTiming?: { readonly settleWindowMs: number; readonly commitDeadlineMs: number };
}

/** What the producer's commits were billed: every call after the table was created. */
export interface HistoryLoad {
  readonly counts: RequestCounts;
  readonly unitsByTable: Record<string, TableUnits>;
}

/**
 * The producer's side: creates an event log table and commits `events` benchmark events the way
 * `producer` says, with ids spread over the past `hours`, as a backlog that is already settled when
 * a system starts. Only the public `EventLog` API is used, so this holds whatever the log's storage
 * format. Resolves to what the commits were billed (not creating the table), metered like every
 * system's own calls.
 *
 * @example
 * ```ts
 * const { counts } = await loadHistory({ endpoints, tableName: 'bench-sluice-events', events: 3_000, hours: 4 });
 * ```
 */
export async function loadHistory(options: LoadHistoryOptions): Promise<HistoryLoad> {
  const meter = new RequestMeter();
  const client = meter.attach(new DynamoDBClient(localClientConfig(options.endpoints.dynamodb)));
  const payload = options.payload ?? 'realistic';
  const producer = options.producer ?? 'batch100';
  const concurrency = options.concurrency ?? 4;
  try {
    meter.pause();
    await client.send(new CreateTableCommand(eventLogTableDefinition(options.tableName)));
    meter.resume();
    const startMs =
      Math.floor((Date.now() - options.hours * TIME_BUCKET_MS) / TIME_BUCKET_MS) * TIME_BUCKET_MS;
    const stepMs = (options.hours * TIME_BUCKET_MS) / options.events;
    let committed = 0;
    const log = new EventLog({
      tableName: options.tableName,
      client,
      // The producer's clock walks through the past hours, one step per event.
      idGenerator: new EventIdGenerator({ now: () => startMs + Math.floor(committed++ * stepMs) }),
      ...options.streamTiming,
    });
    const event = (n: number) => benchEvent(n, payload);
    if (producer === 'commitBatched') {
      await log.commitBatched(Array.from({ length: options.events }, (_, n) => event(n)));
    } else {
      const size = producer === 'single' ? 1 : 100;
      let next = 0;
      const commitLoop = async () => {
        while (next < options.events) {
          const from = next;
          next = Math.min(options.events, next + size);
          if (producer === 'single') await log.commit(event(from));
          else await log.commit(Array.from({ length: next - from }, (_, offset) => event(from + offset)));
        }
      };
      await Promise.all(Array.from({ length: concurrency }, commitLoop));
    }
    return { counts: meter.counts(), unitsByTable: meter.unitsByTable() };
  } finally {
    client.destroy();
  }
}
