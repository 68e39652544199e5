import { describe, ValidationError } from '../errors';
import { TABLE_NAME_PATTERN } from './constants';

/** The rule for stream, event type and pipeline names. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** The same rule in words, for error messages. */
export const NAME_RULE =
  'use 1 to 128 letters, digits, dots, underscores or hyphens, starting with a letter or digit (no "#" or "/", which the log uses in its keys)';

/**
 * Throws a `ValidationError` with code `invalid-name` stating the rule unless the name is a valid stream name.
 *
 * @example
 * ```ts
 * assertStreamName('orders.v2'); // fine
 * assertStreamName('orders#2'); // throws: stream name "orders#2" is invalid: use 1 to 128 letters, ...
 * ```
 */
export function assertStreamName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name))
    throw ValidationError.invalidName('stream', NAME_RULE, name);
}

/**
 * Throws a `ValidationError` with code `invalid-name` stating the rule unless the name is a valid event type.
 *
 * @example
 * ```ts
 * assertEventType('order.placed');
 * ```
 */
export function assertEventType(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name))
    throw ValidationError.invalidName('event type', NAME_RULE, name);
}

/**
 * What is wrong with a DynamoDB table name given to a store, or `undefined` when it is 3 to 255
 * letters, digits, `_`, `-` or `.`: the one wording of the rule, for checks that gather problems.
 *
 * @example
 * ```ts
 * tableNameProblem('state table'); // "tableName must be 3 to 255 letters, ... (given \"state table\")"
 * ```
 */
export function tableNameProblem(tableName: unknown): string | undefined {
  if (typeof tableName === 'string' && TABLE_NAME_PATTERN.test(tableName)) return undefined;
  return `tableName must be 3 to 255 letters, digits, '_', '-' or '.' (given ${describe(tableName)})`;
}

/**
 * Checks a DynamoDB table name given to a store: 3 to 255 letters, digits, `_`, `-` or `.`.
 *
 * @throws `ValidationError` naming the value given.
 *
 * @example
 * ```ts
 * assertTableName(options.tableName); // throws for 'state table'
 * ```
 */
export function assertTableName(tableName: unknown): asserts tableName is string {
  const problem = tableNameProblem(tableName);
  if (problem !== undefined) throw new ValidationError(problem, tableName);
}
