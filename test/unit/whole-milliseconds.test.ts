import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors';
import { assertWholeMilliseconds, wholeMillisecondsProblem } from '../../lib/validation/whole-milliseconds';

const RANGE = { min: 1_000, max: 3_600_000 } as const;

describe('wholeMillisecondsProblem', () => {
  it('accepts both ends of the range', () => {
    expect(wholeMillisecondsProblem('lease duration', 1_000, RANGE)).toBeUndefined();
    expect(wholeMillisecondsProblem('lease duration', 3_600_000, RANGE)).toBeUndefined();
  });

  it.each([
    [999, '999'],
    [3_600_001, '3600001'],
    [1_500.5, '1500.5'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    ['2000', '"2000"'],
    [undefined, 'undefined'],
  ])('names the value and the range for %s', (value, shown) => {
    expect(wholeMillisecondsProblem('lease duration', value, RANGE)).toBe(
      `lease duration must be a whole number of milliseconds from 1000 to 3600000 (given ${shown})`,
    );
  });

  it('throws a ValidationError carrying the value', () => {
    const error = (() => {
      try {
        assertWholeMilliseconds('claim duration', 10, RANGE);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(
      'claim duration must be a whole number of milliseconds from 1000 to 3600000 (given 10)',
    );
    expect(() => assertWholeMilliseconds('claim duration', 60_000, RANGE)).not.toThrow();
  });
});
