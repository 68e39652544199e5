import { ValidationError } from '../errors';
import { eventIdToEpochMs, isEventId, largestEventIdAt } from './event-id';
import { type Instant, isTimeBucket, timeBucketOf, timeBucketStartMs, toEpochMs } from './time-bucket';

/**
 * Where a consumer stands in a stream, saying plainly which events it has delivered:
 * every event of every bucket before `timeBucket`, and, within `timeBucket`, every event whose id is
 * at or before `eventId`. With no `eventId`, nothing in `timeBucket` has been delivered yet.
 *
 * `eventId` need not name a stored event; any id-shaped bound works, which is how "from 12:30" is said.
 * When given, it must fall inside `timeBucket`.
 *
 * @example
 * ```ts
 * const start: Position = { timeBucket: '20240501120000' };          // nothing from 12:00 on delivered
 * const after: Position = positionAfterEvent(lastDeliveredEvent.id);  // resume after that event
 * ```
 */
export interface Position {
  readonly timeBucket: string;
  readonly eventId?: string;
}

/**
 * The position at which nothing in `bucket` or after it has been delivered.
 *
 * @example
 * ```ts
 * positionAtBucketStart('20240501120000'); // { timeBucket: '20240501120000' }
 * ```
 */
export function positionAtBucketStart(bucket: string): Position {
  if (!isTimeBucket(bucket))
    throw ValidationError.invalidPosition('timeBucket must be yyyyMMddHH0000 in UTC', bucket);
  return { timeBucket: bucket };
}

/**
 * The position just after an event: it and everything before it delivered.
 *
 * @example
 * ```ts
 * positionAfterEvent(event.id); // { timeBucket: <the id's hour>, eventId: event.id }
 * ```
 */
export function positionAfterEvent(eventId: string): Position {
  if (!isEventId(eventId))
    throw ValidationError.invalidPosition('eventId must be a Sluice event id', eventId);
  return { timeBucket: timeBucketOf(eventIdToEpochMs(eventId)), eventId };
}

/**
 * The position at which everything committed before `instant` has been delivered and nothing at or
 * after it: the data pump's "start from 12:30".
 *
 * @example
 * ```ts
 * positionAtTime(new Date('2024-05-01T12:30:00Z'));
 * ```
 */
export function positionAtTime(instant: Instant): Position {
  const ms = toEpochMs(instant);
  const bucket = timeBucketOf(ms);
  if (timeBucketStartMs(bucket) === ms) return { timeBucket: bucket };
  return { timeBucket: bucket, eventId: largestEventIdAt(ms - 1) };
}

/**
 * Throws a `ValidationError` with code `invalid-position` naming the value unless it is a well-formed position.
 *
 * @example
 * ```ts
 * assertPosition(JSON.parse(request.body).from);
 * ```
 */
export function assertPosition(value: unknown): asserts value is Position {
  if (typeof value !== 'object' || value === null) {
    throw ValidationError.invalidPosition('a position is an object { timeBucket, eventId? }', value);
  }
  const { timeBucket, eventId } = value as Record<string, unknown>;
  if (!isTimeBucket(timeBucket)) {
    throw ValidationError.invalidPosition('timeBucket must be yyyyMMddHH0000 in UTC', value);
  }
  if (eventId === undefined) return;
  if (!isEventId(eventId)) throw ValidationError.invalidPosition('eventId must be a Sluice event id', value);
  if (timeBucketOf(eventIdToEpochMs(eventId)) !== timeBucket) {
    throw ValidationError.invalidPosition(
      `eventId belongs to bucket ${timeBucketOf(eventIdToEpochMs(eventId))}, not ${timeBucket}`,
      value,
    );
  }
}

/**
 * Whether the event with this id has been delivered by a consumer standing at `position`.
 *
 * @example
 * ```ts
 * isDeliveredAt({ timeBucket: '20240501120000' }, idFromEleven); // true
 * ```
 */
export function isDeliveredAt(position: Position, eventId: string): boolean {
  return eventId <= lastDeliveredBound(position);
}

/**
 * Orders two positions by how far they have got: negative when `a` is behind `b`, zero when they
 * deliver the same events, positive when `a` is ahead.
 *
 * @example
 * ```ts
 * comparePositions(checkpoint, proposed) <= 0; // proposed does not move backwards
 * ```
 */
export function comparePositions(a: Position, b: Position): number {
  const boundA = lastDeliveredBound(a);
  const boundB = lastDeliveredBound(b);
  return boundA < boundB ? -1 : boundA > boundB ? 1 : 0;
}

/**
 * The greatest id a consumer at `position` has delivered: events with ids at or below it are behind
 * the position, events above it are ahead.
 *
 * @example
 * ```ts
 * lastDeliveredBound({ timeBucket: '20240501120000' }); // the largest id of 11:59:59.999
 * lastDeliveredBound({ timeBucket: '19700101000000' }); // '' (BEFORE_EVERY_EVENT)
 * ```
 */
export function lastDeliveredBound(position: Position): string {
  assertPosition(position);
  if (position.eventId !== undefined) return position.eventId;
  const startMs = timeBucketStartMs(position.timeBucket);
  return startMs === 0 ? BEFORE_EVERY_EVENT : largestEventIdAt(startMs - 1);
}

/**
 * The bound of a position at the very first time bucket (1970-01-01T00): it sorts before every event
 * id, so nothing counts as delivered.
 */
export const BEFORE_EVERY_EVENT = '';

/**
 * Writes a position as one string, `yyyyMMddHH0000` or `yyyyMMddHH0000/<eventId>`, for command lines
 * and logs. {@link parsePosition} reads it back.
 *
 * @example
 * ```ts
 * formatPosition({ timeBucket: '20240501120000' }); // '20240501120000'
 * ```
 */
export function formatPosition(position: Position): string {
  assertPosition(position);
  return position.eventId ? `${position.timeBucket}/${position.eventId}` : position.timeBucket;
}

/**
 * Reads a position written by {@link formatPosition}.
 *
 * @example
 * ```ts
 * parsePosition('20240501120000/018f3a6c-1d2e-7000-8000-000000000000');
 * ```
 */
export function parsePosition(text: string): Position {
  if (typeof text !== 'string')
    throw ValidationError.invalidPosition('expected yyyyMMddHH0000[/eventId]', text);
  const [timeBucket, eventId, ...rest] = text.split('/');
  if (rest.length > 0) throw ValidationError.invalidPosition('expected yyyyMMddHH0000[/eventId]', text);
  const position: Position =
    eventId === undefined ? { timeBucket: timeBucket ?? '' } : { timeBucket: timeBucket ?? '', eventId };
  assertPosition(position);
  return position;
}

/**
 * The time a position stands at, in epoch milliseconds: its event id's time, or the start of its
 * bucket. How far behind "now" a consumer is.
 *
 * @example
 * ```ts
 * const lagMs = Date.now() - positionTimeMs(checkpoint);
 * ```
 */
export function positionTimeMs(position: Position): number {
  assertPosition(position);
  return position.eventId === undefined
    ? timeBucketStartMs(position.timeBucket)
    : eventIdToEpochMs(position.eventId);
}

/**
 * The position just before an event: everything before it delivered, not it. Where a reader stands to
 * read up to an event and no further (the largest event id below it, or the start of its bucket).
 *
 * @example
 * ```ts
 * positionBeforeEvent('018f3a6c-1d2e-7000-8000-000000000001'); // { timeBucket, eventId: '018f3a6c-1d2e-7000-8000-000000000000' }
 * ```
 */
export function positionBeforeEvent(eventId: string): Position {
  const after = positionAfterEvent(eventId);
  // An id is 48 bits of milliseconds, version 7, 12 bits of sequence, variant 10, 62 random bits: the
  // largest id below this one takes one off the lowest field that is not 0, and fills those below it.
  const hex = eventId.replaceAll('-', '');
  let ms = Number.parseInt(hex.slice(0, 12), 16);
  let sequence = Number.parseInt(hex.slice(13, 16), 16);
  let random = BigInt(`0x${hex.slice(16)}`) & ((1n << 62n) - 1n);
  if (random > 0n) random -= 1n;
  else {
    random = (1n << 62n) - 1n;
    if (sequence > 0) sequence -= 1;
    else {
      sequence = 0xfff;
      ms -= 1;
    }
  }
  if (ms < 0 || timeBucketOf(ms) !== after.timeBucket) return positionAtBucketStart(after.timeBucket);
  const tail = ((2n << 62n) | random).toString(16).padStart(16, '0');
  const time = ms.toString(16).padStart(12, '0');
  const previous = `${time.slice(0, 8)}-${time.slice(8)}-7${sequence.toString(16).padStart(3, '0')}-${tail.slice(0, 4)}-${tail.slice(4)}`;
  return { timeBucket: after.timeBucket, eventId: previous };
}
