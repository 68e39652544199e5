import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors';
import { OptionProblems } from '../../lib/local/runtime/option-problems';

// The local runtime's parts check their options alike: every problem named in one error, with the
// value given.
describe('OptionProblems', () => {
  it('names every problem in one ValidationError, each with the value given', () => {
    const problems = new OptionProblems();
    problems.unknownKeys({ handler: 1, color: 'red' }, new Set(['handler']));
    problems.handler(1);
    problems.wholeNumber('pollers', 11, 1, 10);
    problems.wholeNumber('batchSize', 2.5, 1, 10, ' for a FIFO queue');
    expect(() => problems.throwIfAny('invalid options', {})).toThrow(
      new ValidationError(
        "invalid options: unknown option 'color'; handler must be a function (given 1); pollers must be between 1 and 10 (given 11); batchSize must be between 1 and 10 for a FIFO queue (given 2.5)",
        {},
      ),
    );
  });

  it('lets a left-out or whole number within its range pass, and throws nothing without problems', () => {
    const problems = new OptionProblems();
    expect(problems.wholeNumber('pollers', undefined, 1, 10)).toBe(true);
    expect(problems.wholeNumber('pollers', 10, 1, 10)).toBe(true);
    expect(problems.wholeNumber('pollers', '5', 1, 10)).toBe(false);
    problems.handler(() => undefined);
    const clean = new OptionProblems();
    clean.handler(() => undefined);
    expect(() => clean.throwIfAny('invalid options', {})).not.toThrow();
    expect(() => problems.throwIfAny('invalid options', {})).toThrow(
      'pollers must be between 1 and 10 (given "5")',
    );
  });
});
