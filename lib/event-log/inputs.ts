import { describe, type StreamTimingValues, ValidationError } from '../errors';
import { assertEventId, largestEventIdAt, smallestEventIdAt } from '../time/event-id';
import { MAX_WRITE_SHARDS } from './constants';
import { unfaithfulJsonValue } from './json-data';
import type { IdInterval } from './log-queries';
import { assertEventType, assertStreamName, tableNameProblem } from './names';
import { streamTimingProblems } from './stream-timing';
import type { EventInput, EventLogOptions, RangeBound, RangeOptions, StreamSettings } from './types';

/** An event given to a commit, with its data as the JSON text that will be stored. */
export interface SerializedEvent {
  readonly input: EventInput;
  readonly json: string;
}

/** Checks an event given to a commit (stream, type, partition key, data JSON can keep) and writes its data as JSON; `index` names it in a commit of many. */
export function serializeEvent(event: EventInput, index?: number): SerializedEvent {
  const where = index === undefined ? '' : `event ${index}: `;
  try {
    if (typeof event !== 'object' || event === null) {
      throw new ValidationError(
        `an event is an object { stream, type, data, partitionKey? } (given ${describe(event)})`,
        event,
      );
    }
    assertStreamName(event.stream);
    assertEventType(event.type);
    if (
      event.partitionKey !== undefined &&
      (typeof event.partitionKey !== 'string' ||
        event.partitionKey.length === 0 ||
        event.partitionKey.length > 256)
    ) {
      throw new ValidationError(
        `partitionKey must be a string of 1 to 256 characters (given ${describe(event.partitionKey)})`,
        event.partitionKey,
      );
    }
    const unfaithful = unfaithfulJsonValue(event.data);
    if (unfaithful) {
      throw new ValidationError(
        `data of a '${event.type}' event cannot be stored as given: ${unfaithful.path} is ${unfaithful.what}`,
        unfaithful.path,
      );
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(event.data);
    } catch (error) {
      throw new ValidationError(
        `data of a '${event.type}' event is not JSON-serializable: ${(error as Error).message}`,
        event.type,
        { cause: error },
      );
    }
    if (json === undefined) {
      throw new ValidationError(
        `data of a '${event.type}' event must be a JSON value (given ${describe(event.data)})`,
        event.data,
      );
    }
    return { input: event, json };
  } catch (error) {
    if (error instanceof ValidationError && where) error.message = `${where}${error.message}`;
    throw error;
  }
}

/** The interval of ids a `range` or `events` call asks for: its `from` and `to` bounds, narrowed by its cursor. */
export function rangeInterval(options: RangeOptions): IdInterval {
  const low = options.from === undefined ? undefined : boundToId(options.from, 'from');
  const high = options.to === undefined ? undefined : boundToId(options.to, 'to');
  if (low !== undefined && high !== undefined && low > high) {
    throw ValidationError.invalidRange('from lies after to', {
      from: describeBound(options.from),
      to: describeBound(options.to),
    });
  }
  const exclusive = options.exclusive ?? false;
  let interval: IdInterval = {
    ...(low === undefined ? {} : { low, lowExclusive: exclusive }),
    ...(high === undefined ? {} : { high, highExclusive: exclusive }),
  };
  if (options.cursor !== undefined) {
    if (typeof options.cursor !== 'string')
      throw ValidationError.invalidRange(
        'cursor must be the string a previous page returned',
        options.cursor,
      );
    assertEventId(options.cursor);
    interval = options.reverse
      ? { ...interval, high: options.cursor, highExclusive: true }
      : { ...interval, low: options.cursor, lowExclusive: true };
  }
  return interval;
}

/** A range bound (an event id, a time or a `Date`) as the first or last id it allows. */
export function boundToId(bound: RangeBound, which: 'from' | 'to'): string {
  if (typeof bound === 'string') {
    assertEventId(bound);
    return bound;
  }
  return which === 'from' ? smallestEventIdAt(bound) : largestEventIdAt(bound);
}

/** A range bound as an error message shows it. */
export function describeBound(bound: RangeBound | undefined): unknown {
  return bound instanceof Date ? bound.toISOString() : bound;
}

/** A page size: a whole number from 1 to `max`, or a `ValidationError` naming the value. */
export function checkLimit(limit: unknown, max: number): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new ValidationError(
      `limit must be a whole number from 1 to ${max} (given ${describe(limit)})`,
      limit,
    );
  }
  return limit;
}

/** An optional positive whole-number bound of a read, or its default. */
export function checkBound(name: string, value: number | undefined, defaultValue: number): number {
  if (value === undefined) return defaultValue;
  if (!Number.isInteger(value) || value < 1) {
    throw new ValidationError(
      `${name} must be a whole number of at least 1 (given ${describe(value)})`,
      value,
    );
  }
  return value;
}

/** A type filter: a list of 1 to 100 event types, or `undefined` for every type. */
export function checkTypes(types: readonly string[] | undefined): readonly string[] | undefined {
  if (types === undefined) return undefined;
  if (!Array.isArray(types) || types.length === 0 || types.length > 100) {
    throw new ValidationError(
      `types must be a list of 1 to 100 event types (given ${describe(types)})`,
      types,
    );
  }
  for (const type of types) assertEventType(type);
  return types;
}

/** The larger of two optional strings, in code-unit order. */
export function maxString(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

/** The settle window and commit deadline an EventLog was given, leaving out what it was not. */
export function declaredTimingOf(options: EventLogOptions): Partial<StreamTimingValues> {
  return {
    ...(options.settleWindowMs === undefined ? {} : { settleWindowMs: options.settleWindowMs }),
    ...(options.commitDeadlineMs === undefined ? {} : { commitDeadlineMs: options.commitDeadlineMs }),
  };
}

/** Every problem with a set of EventLog options, each naming the value; empty when they are fine. */
export function validateEventLogOptions(options: EventLogOptions): string[] {
  const problems: string[] = [];
  if (typeof options !== 'object' || options === null)
    return [`options must be an object (given ${describe(options)})`];
  const tableProblem = tableNameProblem(options.tableName);
  if (tableProblem !== undefined) problems.push(tableProblem);
  const declared = declaredTimingOf(options);
  problems.push(...streamTimingProblems('', declared));
  const settings: [string, StreamSettings | undefined][] = [
    ['defaultStreamSettings', options.defaultStreamSettings],
    ...Object.entries(options.streams ?? {}).map(([stream, value]): [string, StreamSettings] => [
      `streams.${stream}`,
      value,
    ]),
  ];
  for (const stream of Object.keys(options.streams ?? {})) {
    try {
      assertStreamName(stream);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  for (const [where, value] of settings) {
    if (value === undefined) continue;
    if (value.settleWindowMs !== undefined || value.commitDeadlineMs !== undefined) {
      problems.push(
        ...streamTimingProblems(`${where}.`, {
          ...declared,
          ...(value.settleWindowMs === undefined ? {} : { settleWindowMs: value.settleWindowMs }),
          ...(value.commitDeadlineMs === undefined ? {} : { commitDeadlineMs: value.commitDeadlineMs }),
        }),
      );
    }
    if (
      value.writeShards !== undefined &&
      (!Number.isInteger(value.writeShards) || value.writeShards < 1 || value.writeShards > MAX_WRITE_SHARDS)
    ) {
      problems.push(
        `${where}.writeShards must be a whole number from 1 to ${MAX_WRITE_SHARDS} (given ${describe(value.writeShards)})`,
      );
    }
    if (
      value.retentionSeconds !== undefined &&
      (!Number.isInteger(value.retentionSeconds) || value.retentionSeconds < 60)
    ) {
      problems.push(
        `${where}.retentionSeconds must be a whole number of at least 60 (given ${describe(value.retentionSeconds)})`,
      );
    }
  }
  return problems;
}
