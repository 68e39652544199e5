import { createHash } from 'node:crypto';
import { ValidationError } from '../errors';

/**
 * The canonical JSON text of a value: object keys sorted (by UTF-16 code unit, at every depth), no
 * spaces, keys whose value is `undefined` left out as `JSON.stringify` leaves them out, `-0` written
 * as `0`, and `toJSON` honoured (so a `Date` is its ISO string). Two values that hold the same data
 * give the same text, whatever order their keys were written in.
 *
 * @throws `ValidationError` for what JSON cannot hold faithfully: `NaN`, infinities, a `bigint`, a
 * function or symbol, `undefined` at the top or inside an array, or a cycle.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: { d: [1, 2], c: null } }); // '{"a":{"c":null,"d":[1,2]},"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$', new Set());
}

/**
 * The SHA-256 of a value's canonical JSON (see {@link canonicalJson}), in lower-case hex: stable
 * across key order and across processes, so a record fetched again with the same content has the
 * same hash. Unlike a hash of `JSON.stringify`, `{ a: 1, b: 2 }` and `{ b: 2, a: 1 }` agree.
 *
 * It is synchronous (Node's `crypto`), so it may be called with or without `await`.
 *
 * @throws `ValidationError` naming the path of a value JSON cannot hold (`$.items[2].price is NaN`).
 *
 * @example
 * ```ts
 * const hash = computeContentHash(apiRecord);
 * if (hash !== storedHash) await save(apiRecord, hash);
 * ```
 */
export function computeContentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}

function write(value: unknown, path: string, ancestors: Set<object>): string {
  if (value === null) return 'null';
  const json = toJsonValue(value);
  switch (typeof json) {
    case 'string':
      return JSON.stringify(json);
    case 'boolean':
      return json ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(json)) throw unhashable(path, `is ${json}, which JSON cannot hold`, value);
      return Object.is(json, -0) ? '0' : JSON.stringify(json);
    case 'object': {
      if (json === null) return 'null';
      if (ancestors.has(json)) throw unhashable(path, 'refers back to itself (a cycle)', value);
      ancestors.add(json);
      try {
        if (Array.isArray(json)) {
          const parts = json.map((item, index) => {
            const itemPath = `${path}[${index}]`;
            if (item === undefined) throw unhashable(itemPath, 'is undefined inside an array', item);
            return write(item, itemPath, ancestors);
          });
          return `[${parts.join(',')}]`;
        }
        const parts: string[] = [];
        for (const key of Object.keys(json).sort()) {
          const child = (json as Record<string, unknown>)[key];
          if (child === undefined) continue;
          parts.push(`${JSON.stringify(key)}:${write(child, `${path}.${key}`, ancestors)}`);
        }
        return `{${parts.join(',')}}`;
      } finally {
        ancestors.delete(json);
      }
    }
    case 'undefined':
      throw unhashable(path, 'is undefined, which JSON cannot hold', value);
    default:
      throw unhashable(path, `is a ${typeof json}, which JSON cannot hold`, value);
  }
}

/** A value as JSON.stringify would see it: after `toJSON`. */
function toJsonValue(value: unknown): unknown {
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    return (value as { toJSON(): unknown }).toJSON();
  }
  return value;
}

function unhashable(path: string, reason: string, value: unknown): ValidationError {
  return new ValidationError(`cannot hash this value: ${path} ${reason}`, value);
}
