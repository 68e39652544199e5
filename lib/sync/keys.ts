import { describe, ValidationError } from '../errors';
import { MAX_RECORD_KEY_BYTES, RESOURCE_NAME_PATTERN, RESOURCE_NAME_RULE } from './constants';

/**
 * Throws a `ValidationError` stating the rule unless `resource` is a valid sync resource name.
 *
 * @example
 * ```ts
 * assertResourceName('stripe-charges');
 * ```
 */
export function assertResourceName(resource: unknown): asserts resource is string {
  if (typeof resource !== 'string' || !RESOURCE_NAME_PATTERN.test(resource)) {
    throw new ValidationError(
      `sync resource name must be ${RESOURCE_NAME_RULE} (given ${describe(resource)})`,
      resource,
    );
  }
}

/**
 * Throws a `ValidationError` unless `key` is a usable record key: a non-empty string of at most
 * 1,024 bytes.
 *
 * @example
 * ```ts
 * assertRecordKey('cus_123');
 * ```
 */
export function assertRecordKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key) > MAX_RECORD_KEY_BYTES) {
    throw new ValidationError(
      `record key must be a non-empty string of at most ${MAX_RECORD_KEY_BYTES} bytes (given ${describe(key)})`,
      key,
    );
  }
}
