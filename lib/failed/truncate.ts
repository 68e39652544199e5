/** A text cut to a number of UTF-8 bytes. */
export interface TruncatedText {
  readonly text: string;
  /** The UTF-8 size of the whole text. */
  readonly bytes: number;
  /** Whether `text` is shorter than the original. */
  readonly truncated: boolean;
}

/**
 * Cuts a text to at most `maxBytes` bytes of UTF-8, never in the middle of a character.
 *
 * @example
 * ```ts
 * truncateUtf8('héllo', 2); // { text: 'h', bytes: 6, truncated: true }
 * ```
 */
export function truncateUtf8(text: string, maxBytes: number): TruncatedText {
  const buffer = Buffer.from(text, 'utf8');
  if (buffer.length <= maxBytes) return { text, bytes: buffer.length, truncated: false };
  let end = Math.max(0, maxBytes);
  // Step back over continuation bytes (10xxxxxx) so that the cut falls on a character's first byte.
  while (end > 0 && ((buffer[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return { text: buffer.subarray(0, end).toString('utf8'), bytes: buffer.length, truncated: true };
}

/**
 * The most bytes (UTF-8) of an error message that an event's `lastError` keeps, on every path: the
 * worker's dead letters, the pull consumer's re-sends and dead letters, and failure records. A cut
 * message ends with a note of how long it was.
 */
export const MAX_ERROR_MESSAGE_BYTES = 4 * 1024;

/** The most characters of an error's name kept; names are short, so this only stops abuse. */
export const MAX_ERROR_NAME_CHARS = 256;

/**
 * An error message cut to {@link MAX_ERROR_MESSAGE_BYTES} bytes of UTF-8, ending with a note of its
 * whole size when it was cut; shorter messages come back as they are. This is the only place an
 * error message is shortened, so that every path keeps the same part of it.
 *
 * @example
 * ```ts
 * shortenErrorMessage('x'.repeat(100_000)); // 'xxx… (cut from 100000 bytes)', 4,096 bytes in all
 * ```
 */
export function shortenErrorMessage(message: string): string {
  const bytes = Buffer.byteLength(message);
  if (bytes <= MAX_ERROR_MESSAGE_BYTES) return message;
  const note = `… (cut from ${bytes} bytes)`;
  return `${truncateUtf8(message, MAX_ERROR_MESSAGE_BYTES - Buffer.byteLength(note)).text}${note}`;
}

/**
 * A recorded failure with the one rule applied: its name and message as {@link summarizeError}
 * keeps them, its time unchanged. For failures that arrive already recorded (in an envelope from
 * another writer, or given to the failure store), so that no path keeps more than another.
 *
 * @example
 * ```ts
 * shortenFailure({ name: 'Error', message: 'x'.repeat(100_000), at: 1 }).message.length; // about 4,096
 * ```
 */
export function shortenFailure<T extends { readonly name: string; readonly message: string }>(failure: T): T {
  return { ...failure, ...summarizeError(failure) };
}

/** What an event's failure records of whatever was thrown: a name and a message, both strings. */
export interface ErrorSummary {
  readonly name: string;
  readonly message: string;
}

/**
 * The name and message of anything a handler threw, or gave as a reason: an `Error`, a string, a
 * plain object, an object with no prototype, `undefined`, a value whose `name` is not a string or
 * whose getters throw. Never throws. The message is shortened with {@link shortenErrorMessage}.
 *
 * - an `Error` (or any object with a string `message`): its name when that is a non-empty string,
 *   else `Error`, and its message;
 * - a string: `Error`, and the string;
 * - any other object: its name when it has a string one, else `Error`, and its JSON;
 * - anything else: `Error`, and the value as text.
 *
 * @example
 * ```ts
 * summarizeError(new TypeError('bad order')); // { name: 'TypeError', message: 'bad order' }
 * summarizeError({ code: 42 }); // { name: 'Error', message: 'a value that is not an Error was thrown: {"code":42}' }
 * summarizeError(Object.create(null)); // { name: 'Error', message: 'a value that is not an Error was thrown: {}' }
 * ```
 */
export function summarizeError(thrown: unknown): ErrorSummary {
  const name = attempt(() => nameOf(thrown)) ?? 'Error';
  const message =
    attempt(() => messageOf(thrown)) ?? 'a value that is not an Error was thrown, and it cannot be shown';
  return {
    name: name.length > MAX_ERROR_NAME_CHARS ? name.slice(0, MAX_ERROR_NAME_CHARS) : name,
    message: shortenErrorMessage(message),
  };
}

function nameOf(thrown: unknown): string {
  if ((typeof thrown !== 'object' && typeof thrown !== 'function') || thrown === null) return 'Error';
  const name = (thrown as { name?: unknown }).name;
  return typeof name === 'string' && name.trim() !== '' ? name : 'Error';
}

function messageOf(thrown: unknown): string {
  if (typeof thrown === 'string') return thrown;
  if ((typeof thrown === 'object' || typeof thrown === 'function') && thrown !== null) {
    const message = (thrown as { message?: unknown }).message;
    if (typeof message === 'string') return message;
    if (thrown instanceof Error)
      return message === undefined ? '' : `(a message that is not text: ${textOf(message)})`;
    return `a value that is not an Error was thrown: ${textOf(thrown)}`;
  }
  return `a value that is not an Error was thrown: ${textOf(thrown)}`;
}

/** JSON where it can be had (cycles and big integers tolerated), else the value as text. */
function textOf(value: unknown): string {
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'symbol' || typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return String(value);
  const seen = new WeakSet<object>();
  const json = attempt(() =>
    JSON.stringify(value, (_key, inner: unknown) => {
      if (typeof inner === 'bigint') return inner.toString();
      if (typeof inner === 'object' && inner !== null) {
        if (seen.has(inner)) return '[circular]';
        seen.add(inner);
      }
      return inner;
    }),
  );
  return json ?? Object.prototype.toString.call(value);
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
