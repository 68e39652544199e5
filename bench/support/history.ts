import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventLog } from '../../lib';
import { eventLogTableDefinition } from '../../lib/event-log/table';
import { EventIdGenerator } from '../../lib/time/event-id';
import { TIME_BUCKET_MS } from '../../lib/time/time-bucket';
import { benchEvent } from './bench-events';
import { type Endpoints, localClientConfig } from './endpoints';

/** Options of {@link loadHistory}. */
export interface LoadHistoryOptions {
  readonly endpoints: Endpoints;
  /** Created here. */
  readonly tableName: string;
  readonly events: number;
  /** The events are spread evenly over this many past hours, so they fill as many time buckets. */
  readonly hours: number;
  /** Atomic commits of 100 running at once. @default 4 */
  readonly concurrency?: number;
}

/**
 * The producer's side, the same for every system and not counted as anyone's overhead: creates an
 * event log table and commits `events` benchmark events (100 to a commit) with ids spread over the
 * past `hours`, as a backlog that is already settled when a system starts.
 *
 * @example
 * ```ts
 * await loadHistory({ endpoints, tableName: 'bench-sluice-events', events: 3_000, hours: 4 });
 * ```
 */
export async function loadHistory(options: LoadHistoryOptions): Promise<void> {
  const client = new DynamoDBClient(localClientConfig(options.endpoints.dynamodb));
  try {
    await client.send(new CreateTableCommand(eventLogTableDefinition(options.tableName)));
    const startMs =
      Math.floor((Date.now() - options.hours * TIME_BUCKET_MS) / TIME_BUCKET_MS) * TIME_BUCKET_MS;
    const stepMs = (options.hours * TIME_BUCKET_MS) / options.events;
    let committed = 0;
    const producer = new EventLog({
      tableName: options.tableName,
      client,
      // The producer's clock walks through the past hours, one step per event.
      idGenerator: new EventIdGenerator({ now: () => startMs + Math.floor(committed++ * stepMs) }),
      // Loading is not timed: a slow commit on a busy machine is not an error here.
      commitDeadlineMs: 60_000,
      settleWindowMs: 90_000,
    });
    let next = 0;
    const commitLoop = async () => {
      while (next < options.events) {
        const from = next;
        next = Math.min(options.events, next + 100);
        await producer.commit(Array.from({ length: next - from }, (_, offset) => benchEvent(from + offset)));
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, commitLoop));
  } finally {
    client.destroy();
  }
}
