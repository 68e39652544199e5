import { InvalidArgumentError } from 'commander';
import { type Position, parsePosition, positionAtTime } from '../lib';
import { positionAtBucketStart } from '../lib/time/position';

const POSITION_SHAPE = /^\d{14}(\/.*)?$/;
const ISO_TIME_SHAPE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const EARLIEST: Position = positionAtBucketStart('19700101000000');

/**
 * Reads an ISO 8601 time (`2024-05-01T12:30:00Z`, `2024-05-01`); a time without a zone is UTC.
 *
 * @example
 * ```ts
 * parseTime('2024-05-01T12:30:00Z'); // Date
 * ```
 */
export function parseTime(text: string): Date {
  const zoned = /T/.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/.test(text) ? `${text}Z` : text;
  const time = new Date(zoned);
  if (!ISO_TIME_SHAPE.test(text) || Number.isNaN(time.getTime()) || !fieldsInRange(text)) {
    throw new InvalidArgumentError(
      `expected an ISO 8601 time such as 2024-05-01T12:30:00Z (given '${text}')`,
    );
  }
  return time;
}

/** Whether the month, day, hour and minute of an ISO time exist (`Date` rolls 31 February over). */
function fieldsInRange(text: string): boolean {
  const [year, month, day, hour = 0, minute = 0] = (text.match(/\d+/g) ?? []).map(Number);
  if (year === undefined || month === undefined || day === undefined) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59;
}

/**
 * Reads where a pipeline or a tail stands: a position `yyyyMMddHH0000[/eventId]`, an ISO time
 * (everything before it counts as delivered), `earliest` or `now`.
 *
 * @example
 * ```ts
 * parseTarget('2024-05-01T12:30:00Z'); // positionAtTime(...)
 * ```
 */
export function parseTarget(text: string, now: () => number = Date.now): Position {
  if (text === 'earliest') return EARLIEST;
  if (text === 'now') return positionAtTime(now());
  if (POSITION_SHAPE.test(text)) {
    try {
      return parsePosition(text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  }
  if (ISO_TIME_SHAPE.test(text)) return positionAtTime(parseTime(text));
  throw new InvalidArgumentError(
    `expected a position yyyyMMddHH0000[/eventId], an ISO 8601 time such as 2024-05-01T12:30:00Z, 'earliest' or 'now' (given '${text}')`,
  );
}

/** A parser of whole numbers from `min` to `max`, for commander options. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`expected a whole number ${range} (given '${text}')`);
    }
    return value;
  };
}

/** A parser of numbers above 0 and at most `max`, for rates. */
export function positiveNumber(max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > max) {
      throw new InvalidArgumentError(`expected a number above 0, at most ${max} (given '${text}')`);
    }
    return value;
  };
}

/** Reads an `http(s)://` URL, such as an endpoint or a queue URL. */
export function parseUrl(text: string): string {
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(text)) {
    throw new InvalidArgumentError(`expected an http(s) URL (given '${text}')`);
  }
  return text;
}

/** Collects a repeatable or comma-separated option into one list: `--type a --type b,c`. */
export function collectList(text: string, previous: string[] | undefined): string[] {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) throw new InvalidArgumentError(`expected one or more names (given '${text}')`);
  return [...(previous ?? []), ...items];
}
