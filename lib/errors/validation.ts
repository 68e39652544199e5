import { SluiceError, type ValidationCode } from './base';
import { describe } from './describe';

/**
 * Input that breaks a rule: a malformed name, id, time bucket, position, range or option. `code`
 * says what kind of input (`invalid-value` for an option or argument), `value` is what was given,
 * `field` what it was given as and `rule` the rule it broke, where known.
 *
 * @example
 * ```ts
 * try {
 *   parsePosition(text);
 * } catch (error) {
 *   if (error instanceof ValidationError && error.code === 'invalid-position') console.error(error.rule, error.value);
 * }
 * ```
 */
export class ValidationError extends SluiceError {
  declare readonly code: ValidationCode | 'invalid-definition' | 'too-large';
  /** The value that broke the rule. */
  readonly value: unknown;
  /** What the value was given as, such as `stream` or `event type`, where known. */
  readonly field: string | undefined;
  /** The rule the value broke, where known. */
  readonly rule: string | undefined;

  constructor(
    message: string,
    value: unknown,
    options?: {
      cause?: unknown;
      code?: ValidationCode | 'invalid-definition' | 'too-large';
      field?: string;
      rule?: string;
    },
  ) {
    super(message, { cause: options?.cause, code: options?.code ?? 'invalid-value' });
    this.name = 'ValidationError';
    this.value = value;
    this.field = options?.field;
    this.rule = options?.rule;
  }

  /** A string that is not a time bucket (`yyyyMMddHH0000`, UTC): code `invalid-time-bucket`. */
  static invalidTimeBucket(value: unknown): ValidationError {
    const rule = 'an hour in UTC written yyyyMMddHH0000';
    return new ValidationError(
      `time bucket must be ${rule}, like 20240131230000 (given ${describe(value)})`,
      value,
      { code: 'invalid-time-bucket', rule },
    );
  }

  /** A string that is not a Sluice event id (a version 7 UUID in lower case): code `invalid-event-id`. */
  static invalidEventId(value: unknown): ValidationError {
    const rule = 'a lower-case version 7 UUID';
    return new ValidationError(
      `event id must be ${rule}, like 018f3a6c-1d2e-7000-8000-000000000000 (given ${describe(value)})`,
      value,
      { code: 'invalid-event-id', rule },
    );
  }

  /** A position whose parts are malformed or disagree with each other: code `invalid-position`. */
  static invalidPosition(rule: string, value: unknown): ValidationError {
    return new ValidationError(`invalid position: ${rule} (given ${describe(value)})`, value, {
      code: 'invalid-position',
      rule,
    });
  }

  /** A range whose start lies after its end, or whose bounds are malformed: code `invalid-range`. */
  static invalidRange(rule: string, value: unknown): ValidationError {
    return new ValidationError(`invalid range: ${rule} (given ${describe(value)})`, value, {
      code: 'invalid-range',
      rule,
    });
  }

  /** A stream or event type name that breaks the naming rule: code `invalid-name`, `field` says which. */
  static invalidName(field: 'stream' | 'event type', rule: string, value: unknown): ValidationError {
    return new ValidationError(`${field} name ${describe(value)} is invalid: ${rule}`, value, {
      code: 'invalid-name',
      field,
      rule,
    });
  }
}

/** What an `InvalidDefinitionError` checked. */
export type DefinitionKind = 'pipeline' | 'stages' | 'backfill request';

const DEFINITION_LABELS: Readonly<Record<DefinitionKind, string>> = {
  pipeline: 'pipeline definition',
  stages: 'stages definition',
  'backfill request': 'backfill request',
};

/**
 * A definition or request that breaks several rules at once: `problems` lists each, naming the value
 * given, so that one error says everything that needs fixing; `definition` says what was checked (a
 * pipeline definition, a stages definition or a backfill request). Code `invalid-definition`.
 *
 * @example
 * ```ts
 * try {
 *   resolvePipeline(JSON.parse(body));
 * } catch (error) {
 *   if (error instanceof InvalidDefinitionError && error.definition === 'pipeline') console.error(error.problems);
 * }
 * ```
 */
export class InvalidDefinitionError extends ValidationError {
  declare readonly code: 'invalid-definition';
  readonly definition: DefinitionKind;
  readonly problems: readonly string[];

  constructor(definition: DefinitionKind, problems: readonly string[], value: unknown) {
    super(`invalid ${DEFINITION_LABELS[definition]}: ${problems.join('; ')}`, value, {
      code: 'invalid-definition',
    });
    this.name = 'InvalidDefinitionError';
    this.definition = definition;
    this.problems = problems;
  }
}
