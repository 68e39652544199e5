import { describe, ValidationError } from '../errors';

// A backfill runs as a pipeline of its own, named after the pipeline it backfills: a naming rule of
// pipelines, shared by the fetcher (which runs a pipeline's backfills with it), the backfills and
// the CDK constructs (which scope a pipeline's keys to its name and its backfills').

/** What joins a pipeline's name and a backfill id into the backfill pipeline's name. */
export const BACKFILL_NAME_INFIX = '.backfill.';

/** A backfill id: 1 to 36 letters, digits, `_` or `-` (a UUID fits). */
export const BACKFILL_ID_PATTERN = /^[A-Za-z0-9_-]{1,36}$/;

/** The longest pipeline name the state table takes. */
export const MAX_PIPELINE_NAME_LENGTH = 128;

/**
 * The name of a backfill's pipeline record: `<pipeline>.backfill.<backfillId>`.
 *
 * @throws `ValidationError` when the id is malformed or the name would pass 128 characters.
 *
 * @example
 * ```ts
 * backfillPipelineName('billing', '3f9a1c2e'); // 'billing.backfill.3f9a1c2e'
 * ```
 */
export function backfillPipelineName(pipeline: string, backfillId: string): string {
  if (!BACKFILL_ID_PATTERN.test(backfillId))
    throw new ValidationError(
      `backfillId must be 1 to 36 letters, digits, _ or - (given ${describe(backfillId)})`,
      backfillId,
    );
  const name = `${pipeline}${BACKFILL_NAME_INFIX}${backfillId}`;
  if (name.length > MAX_PIPELINE_NAME_LENGTH)
    throw new ValidationError(
      `the backfill pipeline name ${describe(name)} is ${name.length} characters, over ${MAX_PIPELINE_NAME_LENGTH}: use a shorter backfillId`,
      name,
    );
  return name;
}

/**
 * The pipeline and backfill id a backfill pipeline's name stands for, or `undefined` for a name that
 * is not a backfill's.
 *
 * @example
 * ```ts
 * parseBackfillPipelineName('billing.backfill.3f9a1c2e'); // { pipeline: 'billing', backfillId: '3f9a1c2e' }
 * ```
 */
export function parseBackfillPipelineName(
  name: string,
): { pipeline: string; backfillId: string } | undefined {
  const at = name.lastIndexOf(BACKFILL_NAME_INFIX);
  if (at <= 0) return undefined;
  const backfillId = name.slice(at + BACKFILL_NAME_INFIX.length);
  if (!BACKFILL_ID_PATTERN.test(backfillId)) return undefined;
  return { pipeline: name.slice(0, at), backfillId };
}
