import type { RequestCounts } from '../meter/request-meter';
import { PRICES, type Prices } from './prices';

/** What a system billed for a number of events. */
export interface BilledUsage {
  readonly events: number;
  /** The meter's counts over the same events. */
  readonly counts: RequestCounts;
  /** Lambda invocations: the fetcher's runs and the worker's batches, or the system's equivalent. */
  readonly lambdaInvocations: number;
}

/** Billed requests per 1,000 events, by kind and by `<service>.<operation>`. */
export interface RequestsPer1000Events {
  /** SQS requests + DynamoDB request units + Lambda invocations. */
  readonly total: number;
  readonly sqsRequests: number;
  readonly dynamoDbWriteUnits: number;
  readonly dynamoDbReadUnits: number;
  readonly lambdaInvocations: number;
  /** Billed units of each operation (SQS requests or DynamoDB request units). */
  readonly byOperation: Readonly<Record<string, number>>;
}

/** Dollars per million events, by service. */
export interface CostPerMillionEvents {
  readonly total: number;
  readonly sqs: number;
  readonly dynamoDb: number;
  readonly lambdaRequests: number;
}

/**
 * Billed requests per 1,000 events: what the meter counted, scaled to 1,000 events.
 *
 * @example
 * ```ts
 * requestsPer1000Events({ events: 2_000, counts: meter.counts(), lambdaInvocations: 8 }).total;
 * ```
 */
export function requestsPer1000Events(usage: BilledUsage): RequestsPer1000Events {
  const scale = 1_000 / assertEvents(usage.events);
  let sqsRequests = 0;
  let writeUnits = 0;
  let readUnits = 0;
  const byOperation: Record<string, number> = {};
  for (const [key, count] of Object.entries(usage.counts)) {
    sqsRequests += count.sqsRequests;
    writeUnits += count.writeUnits;
    readUnits += count.readUnits;
    const billed = count.sqsRequests + count.writeUnits + count.readUnits;
    if (billed > 0) byOperation[key] = round(billed * scale);
  }
  const lambda = usage.lambdaInvocations * scale;
  return {
    total: round((sqsRequests + writeUnits + readUnits) * scale + lambda),
    sqsRequests: round(sqsRequests * scale),
    dynamoDbWriteUnits: round(writeUnits * scale),
    dynamoDbReadUnits: round(readUnits * scale),
    lambdaInvocations: round(lambda),
    byOperation,
  };
}

/**
 * The framework's own cost per million events at public on-demand prices: SQS requests, DynamoDB
 * request units and Lambda requests. The handler's compute (Lambda GB-seconds) is the user's and is
 * left out, as is storage.
 *
 * @example
 * ```ts
 * costPerMillionEvents({ events: 1_000, counts, lambdaInvocations: 2 }).total; // dollars
 * ```
 */
export function costPerMillionEvents(usage: BilledUsage, prices: Prices = PRICES): CostPerMillionEvents {
  const perEvent = 1 / assertEvents(usage.events);
  let sqsRequests = 0;
  let writeUnits = 0;
  let readUnits = 0;
  for (const count of Object.values(usage.counts)) {
    sqsRequests += count.sqsRequests;
    writeUnits += count.writeUnits;
    readUnits += count.readUnits;
  }
  // A price per million units times units per event is dollars per million events.
  const sqs = sqsRequests * perEvent * prices.sqsPerMillionRequests;
  const dynamoDb =
    writeUnits * perEvent * prices.dynamoDbPerMillionWriteUnits +
    readUnits * perEvent * prices.dynamoDbPerMillionReadUnits;
  const lambdaRequests = usage.lambdaInvocations * perEvent * prices.lambdaPerMillionRequests;
  return {
    total: round(sqs + dynamoDb + lambdaRequests, 6),
    sqs: round(sqs, 6),
    dynamoDb: round(dynamoDb, 6),
    lambdaRequests: round(lambdaRequests, 6),
  };
}

function assertEvents(events: number): number {
  if (!Number.isFinite(events) || events <= 0)
    throw new RangeError(`events must be a positive number (given ${events})`);
  return events;
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
