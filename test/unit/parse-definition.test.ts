import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { InvalidDefinitionError } from '../../lib/errors';
import '../../lib/validation/english-messages';
import { parseDefinition } from '../../lib/validation/parse-definition';

const schema = z.strictObject({ name: z.string(), size: z.number().check(z.gte(1)) });

function thrownBy(run: () => unknown): InvalidDefinitionError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidDefinitionError) return error;
    throw error;
  }
  throw new Error('nothing was thrown');
}

describe('parseDefinition', () => {
  it('gives the value the schema makes of a good input', () => {
    expect(parseDefinition(schema, { name: 'a', size: 2 }, 'pipeline')).toEqual({ name: 'a', size: 2 });
  });

  it('throws one InvalidDefinitionError of the kind given, listing every issue with the value given', () => {
    const input = { name: 3, size: 0 };
    const error = thrownBy(() => parseDefinition(schema, input, 'stages'));
    expect(error.definition).toBe('stages');
    expect(error.value).toBe(input);
    expect(error.problems).toHaveLength(2);
    expect(error.problems[0]).toMatch(/^name: .* \(given 3\)$/);
    expect(error.problems[1]).toMatch(/^size: .* \(given 0\)$/);
    expect(error.message).toBe(`invalid stages definition: ${error.problems.join('; ')}`);
  });

  it("calls an issue about the whole input 'definition'", () => {
    const error = thrownBy(() => parseDefinition(schema, 'text', 'pipeline'));
    expect(error.problems).toEqual([expect.stringMatching(/^definition: .* \(given "text"\)$/)]);
  });

  it('words each issue with problemOf when one is given', () => {
    const error = thrownBy(() =>
      parseDefinition(schema, { name: 'a', size: 1, extra: true }, 'backfill request', (issue) =>
        issue.code === 'unrecognized_keys' ? `unknown ${issue.keys.join(', ')}` : 'other',
      ),
    );
    expect(error.problems).toEqual(['unknown extra']);
    expect(error.message).toBe('invalid backfill request: unknown extra');
  });
});
