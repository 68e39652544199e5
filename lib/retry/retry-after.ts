/**
 * Reads an HTTP `Retry-After` value, in either of its two forms: delay-seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`). Resolves to the wait in milliseconds; a date in the past gives 0.
 * Undefined when the value is missing or malformed (a negative or fractional number, a bare word).
 *
 * @param now - the current time in milliseconds since the epoch, to measure a date against.
 * @example
 * ```ts
 * parseRetryAfter('7'); // 7000
 * parseRetryAfter(new Date(Date.now() + 30_000).toUTCString()); // about 30000
 * parseRetryAfter('soon'); // undefined
 * ```
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse accepts bare numbers and other oddities; an HTTP date always names its month or day.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
