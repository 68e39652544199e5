import * as z from 'zod/mini';
import { describe, InvalidDefinitionError } from '../errors';
import { NAME_PATTERN } from '../event-log/names';
import {
  comparePositions,
  formatPosition,
  type Position,
  parsePosition,
  positionAtTime,
} from '../time/position';
import '../validation/english-messages';
import { describeIssue } from '../validation/issues';
import { parseDefinition } from '../validation/parse-definition';
import { BACKFILL_ID_PATTERN } from './constants';
import type { BackfillRequest } from './types';

const POSITION_SHAPE = /^\d{14}(\/.*)?$/;
const isoTime = z.iso.datetime({ offset: true });

/** A bound as text: a position, or an ISO time with a zone from 1970 on. */
const boundSchema = z.string().check(
  z.superRefine((text, context) => {
    const problem = boundProblem(text);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  }),
);

const requestSchema = z.strictObject({
  pipeline: z
    .string()
    .check(
      z.regex(
        NAME_PATTERN,
        'pipeline must be 1 to 128 letters, digits, dots, underscores or hyphens, starting with a letter or digit',
      ),
    ),
  from: boundSchema,
  to: boundSchema,
  backfillId: z.optional(
    z.string().check(z.regex(BACKFILL_ID_PATTERN, 'backfillId must be 1 to 36 letters, digits, _ or -')),
  ),
});

/**
 * Checks the detail of a "Backfill Requested" event (or a request made any other way) and returns it,
 * or throws an `InvalidDefinitionError` with definition `backfill request` naming every problem and the value given: a missing or
 * malformed field, an unknown field, or a `from` that lies after `to`.
 *
 * @example
 * ```ts
 * const request = parseBackfillRequest({
 *   pipeline: 'billing',
 *   from: '2024-05-01T00:00:00Z',
 *   to: '20240502000000',
 * });
 * ```
 */
export function parseBackfillRequest(detail: unknown): BackfillRequest {
  const request = parseDefinition(requestSchema, detail, 'backfill request', (issue) => {
    if (issue.code === 'unrecognized_keys')
      return `unknown field(s) ${issue.keys.map((key) => `'${key}'`).join(', ')}: a request has pipeline, from, to and backfillId`;
    return describeIssue(issue, detail, 'request');
  });
  const { from, stopAt } = backfillRange(request);
  if (comparePositions(from, stopAt) > 0) {
    throw new InvalidDefinitionError(
      'backfill request',
      [
        `from ${describe(request.from)} lies after to ${describe(request.to)} (positions ${formatPosition(from)} and ${formatPosition(stopAt)})`,
      ],
      detail,
    );
  }
  return {
    pipeline: request.pipeline,
    from: request.from,
    to: request.to,
    ...(request.backfillId === undefined ? {} : { backfillId: request.backfillId }),
  };
}

/**
 * The positions a backfill starts and stops at. A time `from` starts at the first event at or after
 * it; a time `to` stops before the first event at it. A position is taken as it is.
 *
 * @example
 * ```ts
 * backfillRange({ pipeline: 'billing', from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z' });
 * // { from: { timeBucket: '20240501000000' }, stopAt: { timeBucket: '20240502000000' } }
 * ```
 */
export function backfillRange(request: Pick<BackfillRequest, 'from' | 'to'>): {
  from: Position;
  stopAt: Position;
} {
  return { from: boundPosition(request.from), stopAt: boundPosition(request.to) };
}

/**
 * Reads one bound, a position `yyyyMMddHH0000[/eventId]` or an ISO time with a zone.
 *
 * @example
 * ```ts
 * boundPosition('2024-05-01T12:30:00Z'); // positionAtTime(...)
 * ```
 */
export function boundPosition(text: string): Position {
  const problem = boundProblem(text);
  if (problem)
    throw new InvalidDefinitionError('backfill request', [`${problem} (given ${describe(text)})`], text);
  return POSITION_SHAPE.test(text) ? parsePosition(text) : positionAtTime(new Date(text));
}

/** Why a bound is refused, or `undefined` when it is fine. */
function boundProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return 'expected a position yyyyMMddHH0000[/eventId] or an ISO 8601 time';
  if (POSITION_SHAPE.test(text)) {
    try {
      parsePosition(text);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }
  if (!isoTime.safeParse(text).success)
    return 'expected a position yyyyMMddHH0000[/eventId] or an ISO 8601 time with a zone, such as 2024-05-01T12:30:00Z';
  if (Date.parse(text) < 0) return 'time must be 1970-01-01T00:00:00Z or later';
  return undefined;
}
