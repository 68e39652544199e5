import { describe, ValidationError } from '../../errors';

/**
 * The problems found in the options of a local runtime part, gathered so that one `ValidationError`
 * names them all, each with the value given.
 *
 * @example
 * ```ts
 * const problems = new OptionProblems();
 * problems.unknownKeys(options, OPTION_KEYS);
 * problems.handler(options?.handler);
 * problems.wholeNumber('functionTimeoutSeconds', options?.functionTimeoutSeconds, 1, 900);
 * problems.throwIfAny('invalid schedule options', options);
 * ```
 */
export class OptionProblems {
  private readonly problems: string[] = [];

  add(problem: string): void {
    this.problems.push(problem);
  }

  /** One problem for each key of `options` that is not among `known`. */
  unknownKeys(options: object | undefined, known: ReadonlySet<string>): void {
    for (const key of Object.keys(options ?? {})) if (!known.has(key)) this.add(`unknown option '${key}'`);
  }

  /** A problem unless `value` is a function. */
  handler(value: unknown): void {
    if (typeof value !== 'function') this.add(`handler must be a function (given ${describe(value)})`);
  }

  /** A problem unless `value` is left out or a whole number from `min` to `max`; whether it passed. */
  wholeNumber(name: string, value: unknown, min: number, max: number, suffix = ''): boolean {
    if (value === undefined) return true;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return true;
    this.add(`${name} must be between ${min} and ${max}${suffix} (given ${describe(value)})`);
    return false;
  }

  /** Throws a `ValidationError` naming every problem after `heading`, when there is any. */
  throwIfAny(heading: string, value: unknown): void {
    if (this.problems.length > 0) throw new ValidationError(`${heading}: ${this.problems.join('; ')}`, value);
  }
}
