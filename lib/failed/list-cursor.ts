import { describe, ValidationError } from '../errors';

/** Where a listing of day-partitioned records stopped: a day, and the last sort key read in it. */
export interface ListPosition {
  /** The UTC day, `yyyyMMdd`, to go on with. */
  readonly day: string;
  /** The last sort key returned from that day; absent to start the day from its newest record. */
  readonly sortKey?: string;
}

const DAY_PATTERN = /^\d{8}$/;

/**
 * Writes a listing position as an opaque cursor (base64url JSON).
 *
 * @example
 * ```ts
 * const cursor = encodeListCursor({ day: '20240501', sortKey: `2024-05-01T12:30:00.000Z#${eventId}` });
 * ```
 */
export function encodeListCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify({ d: position.day, k: position.sortKey }), 'utf8').toString('base64url');
}

/**
 * Reads a cursor written by {@link encodeListCursor}; throws a `ValidationError` naming it otherwise.
 *
 * @example
 * ```ts
 * const { day, sortKey } = decodeListCursor(options.cursor);
 * ```
 */
export function decodeListCursor(cursor: string): ListPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const { d, k } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as {
    d?: unknown;
    k?: unknown;
  };
  if (typeof d !== 'string' || !DAY_PATTERN.test(d) || (k !== undefined && typeof k !== 'string')) {
    throw new ValidationError(
      `cursor must be one returned by an earlier listing (given ${describe(cursor)})`,
      cursor,
    );
  }
  return k === undefined ? { day: d } : { day: d, sortKey: k };
}
