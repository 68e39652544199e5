import { describe } from '../errors';

/** What a schema issue says: where (a path into the input) and what is wrong. */
export interface SchemaIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * The value at `path` inside `root`, or `undefined` where the path leads nowhere: the value a schema
 * issue is about, for the error to name.
 *
 * @example
 * ```ts
 * valueAt({ stages: [{ name: 'x y' }] }, ['stages', 0, 'name']); // 'x y'
 * ```
 */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * One schema issue as a problem to report: `path: message (given value)`, with `rootName` as the path
 * of an issue about the whole input.
 *
 * @example
 * ```ts
 * parsed.error.issues.map((issue) => describeIssue(issue, definition, 'definition'));
 * // ['bufferSize: must be at least 1 (given 0)']
 * ```
 */
export function describeIssue(issue: SchemaIssue, input: unknown, rootName: string): string {
  const path = issue.path.join('.') || rootName;
  return `${path}: ${issue.message} (given ${describe(valueAt(input, issue.path))})`;
}
