/**
 * Characters JSON text may hold raw that SQS refuses in a message body: U+FFFE and U+FFFF (SQS
 * allows #x9, #xA, #xD, #x20 to #xD7FF, #xE000 to #xFFFD and #x10000 to #x10FFFF), and characters
 * beyond U+FFFF, which AWS accepts but the local SQS emulator refuses. `JSON.stringify` already
 * escapes control characters and lone surrogates.
 */
const REFUSED_IN_SQS = /[\uFFFE\uFFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/**
 * JSON text made safe for an SQS message body: every character SQS (or its emulator) refuses, which
 * in JSON text can only stand inside a string, is written as a `\uXXXX` escape. `JSON.parse` reads the
 * same value back.
 *
 * @example
 * ```ts
 * sqsSafeJson(JSON.stringify({ note: 'a\uFFFFb' })); // '{"note":"a\\uffffb"}'
 * ```
 */
export function sqsSafeJson(json: string): string {
  return json.replace(REFUSED_IN_SQS, (characters) =>
    Array.from(
      { length: characters.length },
      (_, index) => `\\u${characters.charCodeAt(index).toString(16).padStart(4, '0')}`,
    ).join(''),
  );
}
