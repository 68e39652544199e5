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
