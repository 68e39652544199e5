import { describe } from '../errors';
import type { EnvelopeEvent } from '../messages/envelope';
import { eventIdToEpochMs } from '../time/event-id';
import { UNKNOWN_FAILURE_MESSAGE } from './constants';
import { UNKNOWN_FAILURE_NAME } from './types';

/**
 * Which dead events a redrive sends back. An event matches when it meets every criterion given; an
 * empty filter matches every event. An event with no recorded error (SQS moved it when the worker
 * never reported) counts as failed with `UnknownFailure`, as the failed handler sees it.
 *
 * @example
 * ```ts
 * const filter: RedriveFilter = { types: ['order.placed'], errorName: 'TimeoutError', from: new Date('2024-05-01T00:00:00Z') };
 * ```
 */
export interface RedriveFilter {
  /** Event types to move. @default every type */
  readonly types?: readonly string[];
  /** The name of the last error, exactly (`TypeError`, `UnknownFailure`). @default any */
  readonly errorName?: string;
  /** Text the last error's message contains (case-sensitive). @default any */
  readonly errorMessageIncludes?: string;
  /** Events committed at or after this time. @default no lower bound */
  readonly from?: Date;
  /** Events committed before this time. @default no upper bound */
  readonly to?: Date;
}

const FILTER_KEYS: ReadonlySet<string> = new Set([
  'types',
  'errorName',
  'errorMessageIncludes',
  'from',
  'to',
] satisfies (keyof RedriveFilter)[]);

/**
 * Every problem with a redrive filter, each naming the value given; empty when it is fine.
 *
 * @example
 * ```ts
 * validateRedriveFilter({ types: [] }); // ['filter.types must list at least one event type (given [])']
 * ```
 */
export function validateRedriveFilter(filter: unknown, where = 'filter'): string[] {
  if (filter === undefined) return [];
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    return [`${where} must be an object (given ${describe(filter)})`];
  }
  const problems: string[] = [];
  const unknown = Object.keys(filter).filter((key) => !FILTER_KEYS.has(key));
  if (unknown.length > 0) {
    problems.push(`${where} has unknown key(s) ${unknown.join(', ')}; known: ${[...FILTER_KEYS].join(', ')}`);
  }
  const { types, errorName, errorMessageIncludes, from, to } = filter as Record<string, unknown>;
  if (
    types !== undefined &&
    (!Array.isArray(types) ||
      types.length === 0 ||
      types.some((type) => typeof type !== 'string' || type === ''))
  ) {
    problems.push(`${where}.types must list at least one event type (given ${describe(types)})`);
  }
  if (errorName !== undefined && (typeof errorName !== 'string' || errorName === '')) {
    problems.push(`${where}.errorName must be a non-empty string (given ${describe(errorName)})`);
  }
  if (
    errorMessageIncludes !== undefined &&
    (typeof errorMessageIncludes !== 'string' || errorMessageIncludes === '')
  ) {
    problems.push(
      `${where}.errorMessageIncludes must be a non-empty string (given ${describe(errorMessageIncludes)})`,
    );
  }
  const fromOk = checkDate(from, `${where}.from`, problems);
  const toOk = checkDate(to, `${where}.to`, problems);
  if (fromOk && toOk && from instanceof Date && to instanceof Date && from.getTime() >= to.getTime()) {
    problems.push(
      `${where}.from must be before ${where}.to (given from ${from.toISOString()}, to ${to.toISOString()})`,
    );
  }
  return problems;
}

/**
 * Whether a dead event meets a redrive filter.
 *
 * @example
 * ```ts
 * matchesRedriveFilter(event, { errorName: 'UnknownFailure' }); // true for an event without lastError
 * ```
 */
export function matchesRedriveFilter(event: EnvelopeEvent, filter: RedriveFilter | undefined): boolean {
  if (filter === undefined) return true;
  if (filter.types !== undefined && !filter.types.includes(event.type)) return false;
  const errorName = event.lastError?.name ?? UNKNOWN_FAILURE_NAME;
  const errorMessage = event.lastError?.message ?? UNKNOWN_FAILURE_MESSAGE;
  if (filter.errorName !== undefined && errorName !== filter.errorName) return false;
  if (filter.errorMessageIncludes !== undefined && !errorMessage.includes(filter.errorMessageIncludes))
    return false;
  if (filter.from !== undefined || filter.to !== undefined) {
    const time = eventIdToEpochMs(event.id);
    if (filter.from !== undefined && time < filter.from.getTime()) return false;
    if (filter.to !== undefined && time >= filter.to.getTime()) return false;
  }
  return true;
}

function checkDate(value: unknown, name: string, problems: string[]): boolean {
  if (value === undefined) return true;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    problems.push(`${name} must be a valid Date (given ${describe(value)})`);
    return false;
  }
  return true;
}
