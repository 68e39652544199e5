import { describe, expect, it } from 'vitest';
import { parseArguments } from '../../chaos/arguments';
import { checkInvariants, type Observations, violationsOf } from '../../chaos/invariants';
import { positionAfterEvent } from '../../lib';
import { EventIdGenerator } from '../../lib/time/event-id';
import { formatPosition } from '../../lib/time/position';

const ids = (() => {
  const generator = new EventIdGenerator();
  return Array.from({ length: 5 }, () => generator.next());
})();
const at = (index: number) => formatPosition(positionAfterEvent(ids[index] as string));

function observations(overrides: Partial<Observations> = {}): Observations {
  return {
    committed: ids,
    effects: ids.slice(0, 4),
    handedOver: [ids[4] as string],
    handlerSuccesses: new Map(ids.slice(0, 4).map((id) => [id, 1])),
    checkpoints: [
      { version: 1, position: at(1) },
      { version: 2, position: at(4) },
    ],
    ...overrides,
  };
}

describe('the chaos invariant check', () => {
  it('counts a failure whose effect was committed twice, and only reports extra failed-handler calls', () => {
    const rerun = checkInvariants(
      observations({
        failedHandlerCalls: [ids[4] as string, ids[4] as string],
        handedOver: [ids[4] as string],
      }),
    );
    expect(rerun).toMatchObject({ failedHandlerDuplicates: 0, failedHandlerReruns: 1 });
    expect(violationsOf(rerun)).toBe(0);
    const doubled = checkInvariants(observations({ handedOver: [ids[4] as string, ids[4] as string] }));
    expect(doubled.failedHandlerDuplicates).toBe(1);
    expect(violationsOf(doubled)).toBe(1);
  });

  it('counts nothing when every event was delivered or handed over once and checkpoints only moved on', () => {
    const counts = checkInvariants(observations());
    expect(counts).toMatchObject({ eventsCommitted: 5, delivered: 4, deadLettered: 1, handlerReruns: 0 });
    expect(violationsOf(counts)).toBe(0);
  });

  it('counts a lost event, naming it', () => {
    const counts = checkInvariants(observations({ handedOver: [] }));
    expect(counts.lost).toBe(1);
    expect(counts.lostSample).toEqual([ids[4]]);
  });

  it('counts effects committed twice, and reports raw handler re-runs apart from them', () => {
    const counts = checkInvariants(
      observations({
        effects: [...ids.slice(0, 4), ids[0] as string],
        handlerSuccesses: new Map([[ids[0] as string, 3]]),
      }),
    );
    expect(counts.doubleEffects).toBe(1);
    expect(counts.handlerReruns).toBe(2);
  });

  it('counts a checkpoint that moved backwards, and events handed over twice', () => {
    const counts = checkInvariants(
      observations({
        handedOver: [ids[4] as string, ids[4] as string],
        checkpoints: [
          { version: 1, position: at(3) },
          { version: 2, position: at(1) },
        ],
      }),
    );
    expect(counts.checkpointRegressions).toBe(1);
    expect(counts.failedHandlerDuplicates).toBe(1);
    expect(violationsOf(counts)).toBe(2);
  });
});

describe('the chaos runner arguments', () => {
  it('reads the quick set, JSON output, a seed and scenarios', () => {
    expect(
      parseArguments(['--quick', '--json', '--seed', '42', '--scenario', 'aws-faults,late-writes']),
    ).toEqual({
      quick: true,
      json: true,
      seed: 42,
      scenarios: ['aws-faults', 'late-writes'],
    });
  });

  it.each([
    [['--seed', 'abc'], "--seed must be a whole number from 0 to 999999999 (given 'abc')"],
    [['--seed'], '--seed needs a value'],
    [['--scenario', 'nope'], "unknown scenario(s) 'nope'"],
    [['--fast'], "unknown argument '--fast'"],
  ])('fails when given %j, naming the value', (argv, message) => {
    expect(() => parseArguments(argv)).toThrow(message);
  });
});
