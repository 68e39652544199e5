import { randomFillSync } from 'node:crypto';
import { ValidationError } from '../errors';
import { type Instant, toEpochMs } from './time-bucket';

const EVENT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MAX_TIMESTAMP_MS = 2 ** 48 - 1;
const MAX_SEQUENCE = 0xfff;
const RANDOM_POOL_BYTES = 4096;

/** Options for an {@link EventIdGenerator}. */
export interface EventIdGeneratorOptions {
  /**
   * The clock, in milliseconds since the epoch.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Fills a buffer with random bytes; replace it only to make ids predictable in tests.
   * @default crypto.randomFillSync
   */
  readonly fillRandom?: (buffer: Uint8Array) => void;
}

/**
 * Makes time-ordered event ids: version 7 UUIDs (RFC 9562) whose first 48 bits are the commit time in
 * milliseconds and whose next 12 bits count ids within one millisecond. Sorting ids as strings sorts
 * them by time, and ids from one generator always increase, even within one millisecond or when the
 * clock steps back (they then carry the latest time seen until the clock catches up).
 *
 * @example
 * ```ts
 * const ids = new EventIdGenerator();
 * const first = ids.next();
 * const second = ids.next();
 * first < second; // true
 * eventIdToTime(first); // the Date it was made
 * ```
 */
export class EventIdGenerator {
  private readonly now: () => number;
  private readonly fillRandom: (buffer: Uint8Array) => void;
  private readonly pool = new Uint8Array(RANDOM_POOL_BYTES);
  private poolOffset = RANDOM_POOL_BYTES;
  private lastMs = -1;
  private sequence = 0;

  constructor(options: EventIdGeneratorOptions = {}) {
    this.now = options.now ?? Date.now;
    this.fillRandom = options.fillRandom ?? ((buffer) => randomFillSync(buffer));
  }

  /** The next id, later than every id this generator made before. */
  next(): string {
    const clockMs = this.now();
    if (clockMs > this.lastMs) {
      this.lastMs = clockMs;
      this.sequence = 0;
    } else if (this.sequence < MAX_SEQUENCE) {
      this.sequence += 1;
    } else {
      // 4,096 ids in one millisecond: borrow the next millisecond rather than break the order.
      this.lastMs += 1;
      this.sequence = 0;
    }
    if (this.lastMs > MAX_TIMESTAMP_MS || this.lastMs < 0) {
      throw ValidationError.invalidRange(
        'event id clock is outside the 48-bit millisecond range',
        this.lastMs,
      );
    }
    return formatEventId(this.lastMs, this.sequence, this.randomBytes(8));
  }

  private randomBytes(count: number): Uint8Array {
    if (this.poolOffset + count > RANDOM_POOL_BYTES) {
      this.fillRandom(this.pool);
      this.poolOffset = 0;
    }
    const bytes = this.pool.subarray(this.poolOffset, this.poolOffset + count);
    this.poolOffset += count;
    return bytes;
  }
}

/**
 * Whether a value is a Sluice event id.
 *
 * @example
 * ```ts
 * isEventId('018f3a6c-1d2e-7000-8000-000000000000'); // true
 * ```
 */
export function isEventId(value: unknown): value is string {
  return typeof value === 'string' && EVENT_ID_PATTERN.test(value);
}

/**
 * Throws a `ValidationError` with code `invalid-event-id` naming the value unless it is a Sluice event id.
 *
 * @example
 * ```ts
 * assertEventId(message.eventId);
 * ```
 */
export function assertEventId(value: unknown): asserts value is string {
  if (!isEventId(value)) throw ValidationError.invalidEventId(value);
}

/**
 * The commit time of an event, in milliseconds since the epoch, read from its id.
 *
 * @example
 * ```ts
 * eventIdToEpochMs('018f3a6c-1d2e-7000-8000-000000000000'); // 1714731310382
 * ```
 */
export function eventIdToEpochMs(eventId: string): number {
  assertEventId(eventId);
  return Number.parseInt(eventId.slice(0, 8) + eventId.slice(9, 13), 16);
}

/**
 * The commit time of an event, read from its id.
 *
 * @example
 * ```ts
 * eventIdToTime(id).toISOString();
 * ```
 */
export function eventIdToTime(eventId: string): Date {
  return new Date(eventIdToEpochMs(eventId));
}

/**
 * The smallest id any event committed at this instant can have: every event committed at or after it
 * sorts at or after this id. Use it to start reading "from 12:30".
 *
 * @example
 * ```ts
 * const from = smallestEventIdAt(new Date('2024-05-01T12:30:00Z'));
 * ```
 */
export function smallestEventIdAt(instant: Instant): string {
  return formatEventId(checkedMs(instant), 0, ZERO_RANDOM, 0x80);
}

/**
 * The largest id any event committed at this instant can have: every event committed at or before it
 * sorts at or before this id.
 *
 * @example
 * ```ts
 * const to = largestEventIdAt(new Date('2024-05-01T12:59:59.999Z'));
 * ```
 */
export function largestEventIdAt(instant: Instant): string {
  return formatEventId(checkedMs(instant), MAX_SEQUENCE, ONES_RANDOM, 0xbf);
}

const ZERO_RANDOM = new Uint8Array(8);
const ONES_RANDOM = new Uint8Array(8).fill(0xff);

function checkedMs(instant: Instant): number {
  const ms = toEpochMs(instant);
  if (ms < 0 || ms > MAX_TIMESTAMP_MS) {
    throw ValidationError.invalidRange('event ids hold times from 1970 to the year 10889', ms);
  }
  return ms;
}

/**
 * Writes the UUID: 48-bit time, version 7 with the 12-bit sequence, then the RFC 4122 variant and
 * 62 random bits. `variantByte`, when given, replaces the first random byte with its variant bits set.
 */
function formatEventId(ms: number, sequence: number, random: Uint8Array, variantByte?: number): string {
  const time = ms.toString(16).padStart(12, '0');
  const sequenceHex = sequence.toString(16).padStart(3, '0');
  const variant = variantByte ?? 0x80 | ((random[0] ?? 0) & 0x3f);
  const tail = hexByte(variant) + hexByte(random[1] ?? 0);
  let node = '';
  for (let index = 2; index < 8; index += 1) node += hexByte(random[index] ?? 0);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${sequenceHex}-${tail}-${node}`;
}

const HEX_BYTES = Array.from({ length: 256 }, (_, value) => value.toString(16).padStart(2, '0'));

function hexByte(value: number): string {
  return HEX_BYTES[value & 0xff] as string;
}

/**
 * The most events one run of ids holds: a run shares every character of its ids but the last two
 * hex digits, which count its events from `00`.
 */
export const MAX_RUN_LENGTH = 256;

/**
 * The ids of a run of `count` events: `base` with its last byte replaced by 0, 1, 2 and so on. The
 * ids of one run sort together, and no id of another run falls between them (runs made from distinct
 * bases differ before the last byte), so the log can store a run as one item keyed by its last id.
 *
 * @example
 * ```ts
 * runIds('018f3a6c-1d2e-7000-8000-0000000000a7', 3);
 * // ['…000000000000', '…000000000001', '…000000000002'] (the last two hex digits count)
 * ```
 */
export function runIds(base: string, count: number): string[] {
  assertEventId(base);
  if (!Number.isInteger(count) || count < 1 || count > MAX_RUN_LENGTH) {
    throw ValidationError.invalidRange(`a run holds 1 to ${MAX_RUN_LENGTH} ids`, count);
  }
  const prefix = base.slice(0, -2);
  return Array.from({ length: count }, (_, index) => prefix + hexByte(index));
}

/**
 * The first and last ids a run holding `eventId` can have: the same id with its last byte 00 and ff.
 *
 * @example
 * ```ts
 * runBounds('018f3a6c-1d2e-7000-8000-0000000000a7');
 * // { first: '018f3a6c-1d2e-7000-8000-000000000000', last: '018f3a6c-1d2e-7000-8000-0000000000ff' }
 * ```
 */
export function runBounds(eventId: string): { readonly first: string; readonly last: string } {
  const prefix = eventId.slice(0, -2);
  return { first: `${prefix}00`, last: `${prefix}ff` };
}

/**
 * The id at `index` of the run holding `eventId`.
 *
 * @example
 * ```ts
 * idInRun('018f3a6c-1d2e-7000-8000-0000000000a7', 2); // '018f3a6c-1d2e-7000-8000-000000000002'
 * ```
 */
export function idInRun(eventId: string, index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_RUN_LENGTH) {
    throw ValidationError.invalidRange(`an index in a run is 0 to ${MAX_RUN_LENGTH - 1}`, index);
  }
  return eventId.slice(0, -2) + hexByte(index);
}

/**
 * The position of an id within its run: its last byte.
 *
 * @example
 * ```ts
 * indexInRun('018f3a6c-1d2e-7000-8000-000000000002'); // 2
 * ```
 */
export function indexInRun(eventId: string): number {
  return Number.parseInt(eventId.slice(-2), 16);
}
