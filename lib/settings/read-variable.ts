import * as z from 'zod/mini';
import { describe } from '../errors';
import { TABLE_NAME_PATTERN } from '../event-log/constants';

/** An environment, as `process.env` is: names to text, some unset. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * How one variable's text is checked and turned into its value: a zod schema over the text, and the
 * rule in words, for the message when the text breaks it.
 */
export interface VariableRule<T> {
  /** What the variable must be, to finish "NAME must be ...". */
  readonly rule: string;
  /** Accepts the text the rule allows, and gives its value. */
  readonly schema: z.ZodMiniType<T, string>;
}

/**
 * Reads one environment variable by its rule. An unset variable gives `undefined`, and a problem when
 * it is `required`; a set one that breaks the rule gives `undefined` and a problem naming the variable,
 * the rule and the value given: `NAME must be RULE (given "value")`. Problems are pushed onto
 * `problems`, so that a reader reports every bad variable at once.
 *
 * @example
 * ```ts
 * const problems: string[] = [];
 * const lease = readVariable(process.env, 'SLUICE_LEASE_DURATION_MS', milliseconds({ min: 1_000, max: 3_600_000 }), problems);
 * // problems: ['SLUICE_LEASE_DURATION_MS must be a whole number of milliseconds from 1000 to 3600000 (given "soon")']
 * ```
 */
export function readVariable<T>(
  env: Environment,
  name: string,
  rule: VariableRule<T>,
  problems: string[],
  options: { readonly required?: boolean } = {},
): T | undefined {
  const text = env[name];
  if (text === undefined) {
    if (options.required) problems.push(`${name} must be set to ${rule.rule} (it is not set)`);
    return undefined;
  }
  const parsed = z.safeParse(rule.schema, text);
  if (!parsed.success) {
    problems.push(`${name} must be ${rule.rule} (given ${describe(text)})`);
    return undefined;
  }
  return parsed.data;
}

/**
 * Text matching `pattern`, described by `rule`.
 *
 * @example
 * ```ts
 * const bus = matching(/^[/.\-_A-Za-z0-9]{1,256}$/, 'an EventBridge bus name');
 * ```
 */
export function matching(pattern: RegExp, rule: string): VariableRule<string> {
  return { rule, schema: z.string().check(z.regex(pattern)) };
}

/**
 * Text `valid` accepts, described by `rule`: for rules a pattern does not say.
 *
 * @example
 * ```ts
 * const url = satisfying((text) => URL.canParse(text), 'a URL');
 * ```
 */
export function satisfying(valid: (text: string) => boolean, rule: string): VariableRule<string> {
  return { rule, schema: z.string().check(z.refine(valid)) };
}

/**
 * A DynamoDB table name: 3 to 255 letters, digits, `_`, `-` or `.`.
 *
 * @example
 * ```ts
 * readVariable(env, 'SLUICE_STATE_TABLE', tableName(), problems, { required: true });
 * ```
 */
export function tableName(): VariableRule<string> {
  return matching(TABLE_NAME_PATTERN, "a DynamoDB table name: 3 to 255 letters, digits, '_', '-' or '.'");
}

/**
 * A whole number from `min` to `max`, written in decimal digits; `unit` names what it counts, and `why`
 * is added after the range, to say where the range comes from.
 *
 * @example
 * ```ts
 * wholeNumber({ min: 1, max: 99 }); // rule: 'a whole number from 1 to 99'
 * wholeNumber({ min: 10, max: 60_000 }, 'milliseconds'); // rule: 'a whole number of milliseconds from 10 to 60000'
 * ```
 */
export function wholeNumber(
  range: { readonly min: number; readonly max: number },
  unit?: string,
  why = '',
): VariableRule<number> {
  const rule = `a whole number${unit ? ` of ${unit}` : ''} from ${range.min} to ${range.max}${why}`;
  return {
    rule,
    schema: z.pipe(
      z.string().check(z.regex(/^[0-9]{1,16}$/)),
      z.pipe(
        z.transform((text: string) => Number(text)),
        z.number().check(z.gte(range.min), z.lte(range.max)),
      ),
    ),
  };
}

/**
 * A whole number of milliseconds from `min` to `max` (see {@link wholeNumber}).
 *
 * @example
 * ```ts
 * milliseconds({ min: 1_000, max: 3_600_000 });
 * ```
 */
export function milliseconds(
  range: { readonly min: number; readonly max: number },
  why = '',
): VariableRule<number> {
  return wholeNumber(range, 'milliseconds', why);
}
