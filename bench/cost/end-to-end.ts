import type { OperationCount, RequestCounts } from '../meter/request-meter';
import { type BilledUsage, costPerMillionEvents } from './cost-model';
import { PRICES, type Prices } from './prices';

/**
 * The calls Lambda's SQS event source makes for a consumer: its receives, and its deletes and
 * visibility changes of what it received. On AWS they are billed to the account like the worker's own.
 */
const EVENT_SOURCE_OPERATIONS = new Set([
  'SQS.ReceiveMessage',
  'SQS.DeleteMessage',
  'SQS.DeleteMessageBatch',
  'SQS.ChangeMessageVisibility',
  'SQS.ChangeMessageVisibilityBatch',
]);

/** What a run of events was billed, by part: the producer's writes, the pump, the handling. */
export interface EndToEndUsage {
  readonly events: number;
  /** The producer's commits. */
  readonly write: RequestCounts;
  /** The fetcher (and failed-event function): its reads, sends, leases and checkpoints. */
  readonly pump: BilledUsage['counts'];
  readonly pumpInvocations: number;
  /** The worker's own calls and the event source's receives and deletes. */
  readonly handle: BilledUsage['counts'];
  readonly handleInvocations: number;
}

/** Dollars per million events, by part. */
export interface EndToEndCost {
  readonly write: number;
  readonly pump: number;
  readonly handle: number;
  readonly total: number;
}

/**
 * Adds the counts of several meters, operation by operation.
 *
 * @example
 * ```ts
 * mergeCounts(producerMeter.counts(), systemMeter.counts());
 * ```
 */
export function mergeCounts(...counts: readonly RequestCounts[]): RequestCounts {
  const merged: RequestCounts = {};
  for (const each of counts)
    for (const [key, count] of Object.entries(each)) {
      const total = merged[key] ?? {
        calls: 0,
        errors: 0,
        sqsRequests: 0,
        writeUnits: 0,
        readUnits: 0,
        payloadBytes: 0,
      };
      merged[key] = total;
      for (const field of Object.keys(total) as (keyof OperationCount)[]) total[field] += count[field];
    }
  return merged;
}

/**
 * Splits the counts of the clients the local runtime shares between the fetcher and the event source
 * mappings into the pump's part and the event source's part (receives, deletes, visibility changes).
 *
 * @example
 * ```ts
 * const { pump, eventSource } = splitEventSourceCalls(runtimeMeter.counts());
 * ```
 */
export function splitEventSourceCalls(counts: RequestCounts): {
  pump: RequestCounts;
  eventSource: RequestCounts;
} {
  const pump: RequestCounts = {};
  const eventSource: RequestCounts = {};
  for (const [key, count] of Object.entries(counts))
    (EVENT_SOURCE_OPERATIONS.has(key) ? eventSource : pump)[key] = { ...count };
  return { pump, eventSource };
}

/**
 * DynamoDB write units per event: all the write units in `counts` over `events`.
 *
 * @example
 * ```ts
 * writeUnitsPerEvent(3_000, producerCounts); // 4 for commits of 100 items of just over 1 KB
 * ```
 */
export function writeUnitsPerEvent(events: number, counts: RequestCounts): number {
  const units = Object.values(counts).reduce((sum, count) => sum + count.writeUnits, 0);
  return round(units / positive(events), 3);
}

/**
 * End-to-end dollars per million events: the producer's writes, the pump and the handling, each
 * priced with {@link costPerMillionEvents} (SQS requests, DynamoDB request units, Lambda requests).
 *
 * @example
 * ```ts
 * endToEndCost({ events: 3_000, write, pump, pumpInvocations: 1, handle, handleInvocations: 6 }).total;
 * ```
 */
export function endToEndCost(usage: EndToEndUsage, prices: Prices = PRICES): EndToEndCost {
  const events = positive(usage.events);
  const write = costPerMillionEvents({ events, counts: usage.write, lambdaInvocations: 0 }, prices).total;
  const pump = costPerMillionEvents(
    { events, counts: usage.pump, lambdaInvocations: usage.pumpInvocations },
    prices,
  ).total;
  const handle = costPerMillionEvents(
    { events, counts: usage.handle, lambdaInvocations: usage.handleInvocations },
    prices,
  ).total;
  return { write, pump, handle, total: round(write + pump + handle, 6) };
}

function positive(events: number): number {
  if (!Number.isFinite(events) || events <= 0)
    throw new RangeError(`events must be a positive number (given ${events})`);
  return events;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** One producer's and payload's run of the `sluice` system, end to end. */
export interface StorageCostRun {
  readonly events: number;
  readonly writeUnitsPerEvent: number;
  readonly usdPerMillionEventsEndToEnd: EndToEndCost;
  /** The fetcher's reads of the log table. */
  readonly logReadUnitsPer1000Events: number;
  /** Every SQS request billed: the fetcher's sends and the event source's receives and deletes. */
  readonly sqsRequestsPer1000Events: number;
  readonly eventsPerSecond: number;
}

/**
 * The figures of one storage-cost run from what the producer and the system were billed.
 *
 * @example
 * ```ts
 * storageCostRun({ events: 3_000, write: load.counts, pump, pumpInvocations: 1, handle, handleInvocations: 6 }, { logReadUnits: 840, elapsedMs: 2_000 });
 * ```
 */
export function storageCostRun(
  usage: EndToEndUsage,
  measured: { readonly logReadUnits: number; readonly elapsedMs: number },
  prices: Prices = PRICES,
): StorageCostRun {
  const events = positive(usage.events);
  const sqsRequests = Object.values(mergeCounts(usage.pump, usage.handle)).reduce(
    (sum, count) => sum + count.sqsRequests,
    0,
  );
  return {
    events,
    writeUnitsPerEvent: writeUnitsPerEvent(events, usage.write),
    usdPerMillionEventsEndToEnd: endToEndCost(usage, prices),
    logReadUnitsPer1000Events: round((measured.logReadUnits * 1_000) / events, 2),
    sqsRequestsPer1000Events: round((sqsRequests * 1_000) / events, 2),
    eventsPerSecond: Math.round((events * 1_000) / measured.elapsedMs),
  };
}
