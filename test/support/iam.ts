/**
 * IAM's `StringLike` match, as a `dynamodb:LeadingKeys` condition evaluates it: `*` is any run of
 * characters, `?` any one, everything else itself.
 *
 * @example
 * ```ts
 * iamLike('marker#billing#*', 'marker#billing#abc'); // true
 * ```
 */
export function iamLike(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(value);
}
