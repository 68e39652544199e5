import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type EventInput, EventLog, type EventLogOptions } from '../../lib';
import { EventIdGenerator } from '../../lib/time/event-id';

/**
 * An id generator whose clock walks forward through `steps` (milliseconds added per id), for laying
 * events out over many time buckets in one quick test.
 */
export function steppingIdGenerator(startMs: number, steps: (index: number) => number): EventIdGenerator {
  let now = startMs;
  let index = 0;
  return new EventIdGenerator({
    now: () => {
      now += steps(index);
      index += 1;
      return now;
    },
  });
}

/**
 * Commits the events one commit each, in order. The events of one commit share one id time (a
 * segment's ids are one run), so tests that spread events over time with {@link steppingIdGenerator}
 * commit them this way.
 */
export async function commitOneByOne(log: EventLog, inputs: readonly EventInput[]): Promise<string[]> {
  const ids: string[] = [];
  for (const input of inputs) ids.push(...(await log.commit([input])));
  return ids;
}

/** A small, seeded pseudo-random source (mulberry32), so that scenarios replay exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An EventLog on a test table. */
export function eventLogFor(
  client: DynamoDBClient,
  tableName: string,
  options: Partial<EventLogOptions> = {},
): EventLog {
  return new EventLog({ tableName, client, ...options });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
