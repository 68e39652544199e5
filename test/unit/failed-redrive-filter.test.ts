import { describe, expect, it } from 'vitest';
import { UNKNOWN_FAILURE_MESSAGE } from '../../lib/failed/constants';
import { matchesRedriveFilter, validateRedriveFilter } from '../../lib/failed/redrive-filter';
import type { EnvelopeEvent } from '../../lib/messages/envelope';
import { EventIdGenerator } from '../../lib/time/event-id';

const AT = Date.parse('2024-05-01T12:00:00.000Z');
const ids = new EventIdGenerator({ now: () => AT });

function deadEvent(overrides: Partial<EnvelopeEvent> = {}): EnvelopeEvent {
  return {
    id: ids.next(),
    type: 'order.placed',
    data: { orderId: 'o-1' },
    attempts: 3,
    lastError: { name: 'TimeoutError', message: 'partner API timed out after 3000 ms', at: AT + 5_000 },
    ...overrides,
  };
}

describe('matchesRedriveFilter', () => {
  it('matches every event when there is no filter, or an empty one', () => {
    expect(matchesRedriveFilter(deadEvent(), undefined)).toBe(true);
    expect(matchesRedriveFilter(deadEvent(), {})).toBe(true);
  });

  it('matches by event type', () => {
    expect(matchesRedriveFilter(deadEvent(), { types: ['order.placed', 'order.paid'] })).toBe(true);
    expect(matchesRedriveFilter(deadEvent(), { types: ['order.paid'] })).toBe(false);
  });

  it('matches by the last error name and message', () => {
    const event = deadEvent();
    expect(matchesRedriveFilter(event, { errorName: 'TimeoutError' })).toBe(true);
    expect(matchesRedriveFilter(event, { errorName: 'TypeError' })).toBe(false);
    expect(matchesRedriveFilter(event, { errorMessageIncludes: 'partner API' })).toBe(true);
    expect(matchesRedriveFilter(event, { errorMessageIncludes: 'Partner API' })).toBe(false);
  });

  it('treats an event without a recorded error as an UnknownFailure', () => {
    const { lastError: _lastError, ...rest } = deadEvent();
    expect(matchesRedriveFilter(rest, { errorName: 'UnknownFailure' })).toBe(true);
    expect(matchesRedriveFilter(rest, { errorMessageIncludes: UNKNOWN_FAILURE_MESSAGE.slice(0, 20) })).toBe(
      true,
    );
    expect(matchesRedriveFilter(rest, { errorName: 'TimeoutError' })).toBe(false);
  });

  it('matches by event time: from included, to excluded', () => {
    const event = deadEvent();
    expect(matchesRedriveFilter(event, { from: new Date(AT) })).toBe(true);
    expect(matchesRedriveFilter(event, { from: new Date(AT + 1) })).toBe(false);
    expect(matchesRedriveFilter(event, { to: new Date(AT + 1) })).toBe(true);
    expect(matchesRedriveFilter(event, { to: new Date(AT) })).toBe(false);
  });

  it('requires every criterion given', () => {
    const event = deadEvent();
    expect(matchesRedriveFilter(event, { types: ['order.placed'], errorName: 'TimeoutError' })).toBe(true);
    expect(matchesRedriveFilter(event, { types: ['order.placed'], errorName: 'TypeError' })).toBe(false);
  });
});

describe('validateRedriveFilter', () => {
  it('accepts a missing filter and a good one', () => {
    expect(validateRedriveFilter(undefined)).toEqual([]);
    expect(
      validateRedriveFilter({
        types: ['a'],
        errorName: 'E',
        errorMessageIncludes: 'x',
        from: new Date(0),
        to: new Date(1),
      }),
    ).toEqual([]);
  });

  it('fails when values are bad, naming each one', () => {
    const problems = validateRedriveFilter({
      types: [],
      errorName: '',
      from: new Date('nope'),
      colour: 'red',
    });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/filter has unknown key\(s\) colour/);
    expect(problems.join('\n')).toMatch(/filter.types must list at least one event type \(given \[\]\)/);
    expect(problems.join('\n')).toMatch(/filter.errorName must be a non-empty string \(given ""\)/);
    expect(problems.join('\n')).toMatch(/filter.from must be a valid Date/);
  });

  it('fails when from is not before to', () => {
    expect(validateRedriveFilter({ from: new Date(AT), to: new Date(AT) })).toEqual([
      'filter.from must be before filter.to (given from 2024-05-01T12:00:00.000Z, to 2024-05-01T12:00:00.000Z)',
    ]);
  });

  it('fails when the filter is not an object', () => {
    expect(validateRedriveFilter('order.placed')).toEqual([
      'filter must be an object (given "order.placed")',
    ]);
  });
});
