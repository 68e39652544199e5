import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors';
import { validateEventLogOptions } from '../../lib/event-log/inputs';
import { assertTableName, tableNameProblem } from '../../lib/event-log/names';

describe('tableNameProblem', () => {
  it.each(['abc', 'sluice-state', 'a.b_c-d'])('accepts %s', (name) => {
    expect(tableNameProblem(name)).toBeUndefined();
  });

  it('accepts 255 characters and refuses 256', () => {
    expect(tableNameProblem('x'.repeat(255))).toBeUndefined();
    expect(tableNameProblem('x'.repeat(256))).toMatch(/^tableName must be 3 to 255 letters/);
  });

  it.each([
    ['ab', '"ab"'],
    ['state table', '"state table"'],
    ['orders#1', '"orders#1"'],
    [undefined, 'undefined'],
    [42, '42'],
  ])('names the rule and the value for %s', (name, shown) => {
    expect(tableNameProblem(name)).toBe(
      `tableName must be 3 to 255 letters, digits, '_', '-' or '.' (given ${shown})`,
    );
  });

  it('is the problem assertTableName throws, as a ValidationError carrying the value', () => {
    expect(() => assertTableName('ab')).toThrow(ValidationError);
    expect(() => assertTableName('ab')).toThrow(
      expect.objectContaining({ message: tableNameProblem('ab'), value: 'ab' }),
    );
    expect(() => assertTableName('sluice-state')).not.toThrow();
  });

  it('is the problem EventLog options report for their table name', () => {
    expect(validateEventLogOptions({ tableName: 'ab' })).toContain(tableNameProblem('ab'));
    expect(validateEventLogOptions({ tableName: 'events' })).toEqual([]);
  });
});
