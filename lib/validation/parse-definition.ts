import type * as z from 'zod/mini';
import { type DefinitionKind, InvalidDefinitionError } from '../errors';
import { describeIssue } from './issues';

/** One schema issue, as zod reports it. */
export type DefinitionIssue = z.core.$ZodIssue;

/**
 * The value `schema` makes of `input`, or an `InvalidDefinitionError` of kind `definition` listing
 * every issue the schema found: each worded by `problemOf`, by default `describeIssue` with the path of
 * an issue about the whole input called `definition`.
 *
 * @example
 * ```ts
 * const value = parseDefinition(definitionSchema, JSON.parse(body), 'pipeline');
 * // throws: invalid pipeline definition: bufferSize: must be at least 1 (given 0)
 * ```
 */
export function parseDefinition<T>(
  schema: z.ZodMiniType<T>,
  input: unknown,
  definition: DefinitionKind,
  problemOf: (issue: DefinitionIssue) => string = (issue) => describeIssue(issue, input, 'definition'),
): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new InvalidDefinitionError(definition, parsed.error.issues.map(problemOf), input);
}
