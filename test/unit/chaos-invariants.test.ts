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

describe('the strict chaos invariant check', () => {
  const [first, second, third, , fifth] = ids as [string, string, string, string, string];

  it('fails when an event has both an effect and a failed-handler hand-over, unless a redrive sent it back', () => {
    const both = observations({ handedOver: [first, fifth] });

    const counts = checkInvariants(both);
    const redriven = checkInvariants({ ...both, redriven: new Set([first]) });

    expect(counts.effectAndHandOver).toBe(1);
    expect(counts.violationSample[0]).toContain(first);
    expect(violationsOf(counts)).toBe(1);
    expect(violationsOf(redriven)).toBe(0);
  });

  it('fails when effects of one partition key land out of commit order on FIFO', () => {
    const partitionKeys = new Map(ids.map((id, index) => [id, `key-${index % 2}`]));

    const inOrder = checkInvariants(observations({ partitionKeys }));
    const inverted = checkInvariants(
      observations({ partitionKeys, effects: [third, second, first, ids[3] as string] }),
    );

    expect(inOrder.orderInversions).toBe(0);
    // key-0 holds first and third: third's effect before first's is one inversion; second is alone in key-1 here.
    expect(inverted.orderInversions).toBe(1);
    expect(violationsOf(inverted)).toBe(1);
  });

  it('fails when the failed handler is told attempts below 1, or other than the handler failed', () => {
    const handlerFailures = new Map([[fifth, { count: 3, lastError: 'boom 3' }]]);
    const told = (attempts: number, lastError = 'boom 3') =>
      checkInvariants(
        observations({ handlerFailures, failedHandlerCalls: [{ id: fifth, attempts, lastError }] }),
      );

    expect(told(3).untrueFailures).toBe(0);
    expect(told(2).untrueFailures).toBe(1);
    expect(told(0).violationSample[0]).toContain('below 1');
    expect(violationsOf(told(2))).toBe(1);
  });

  it('accepts attempts between the runs the worker could record and all runs, and fails outside them', () => {
    // Two failed runs, one of them in an invocation that crashed before it could record anything.
    const handlerFailures = new Map([
      [fifth, { count: 2, settled: 1, lastError: 'boom 2', lastSettledError: 'boom 1' }],
    ]);
    const told = (attempts: number, lastError: string) =>
      checkInvariants(
        observations({ handlerFailures, failedHandlerCalls: [{ id: fifth, attempts, lastError }] }),
      );

    expect(told(1, 'boom 1').untrueFailures).toBe(0);
    expect(told(2, 'boom 2').untrueFailures).toBe(0);
    expect(told(3, 'boom 2').untrueFailures).toBe(1);
    expect(told(2, 'boom 0').untrueFailures).toBe(1);
  });

  it('fails when the failed handler is told a last error other than the one last thrown', () => {
    const counts = checkInvariants(
      observations({
        handlerFailures: new Map([[fifth, { count: 2, lastError: 'boom 2' }]]),
        failedHandlerCalls: [{ id: fifth, attempts: 2, lastError: 'boom 1' }],
      }),
    );

    expect(counts.untrueFailures).toBe(1);
    expect(counts.violationSample[0]).toContain("'boom 1'");
  });

  it('counts an event the pipeline reported expired apart from lost, and only when it was reported', () => {
    const unreported = checkInvariants(observations({ handedOver: [] }));
    const reported = checkInvariants(observations({ handedOver: [], reportedExpired: new Set([fifth]) }));

    expect(unreported.lost).toBe(1);
    expect(reported).toMatchObject({ lost: 0, reportedExpired: 1 });
  });

  it('fails when an output part of an event is missing or committed twice', () => {
    const outputs = (parts: string[]) => checkInvariants(observations({ outputs: { parts, perEvent: 2 } }));
    const all = ids.slice(0, 4).map((id) => `${id}#1`);

    expect(violationsOf(outputs(all))).toBe(0);
    expect(outputs(all.slice(1)).lost).toBe(1);
    expect(outputs([...all, all[0] as string]).doubleEffects).toBe(1);
  });

  it('fails when a producer key is stored twice: a retried commit not recognised as the same one', () => {
    const once = checkInvariants(observations({ producerKeys: ['0', '1', '2', '3', '4'] }));
    const twice = checkInvariants(observations({ producerKeys: ['0', '1', '2', '2', '3', '4'] }));

    expect(once.doubleCommits).toBe(0);
    expect(twice.doubleCommits).toBe(1);
    expect(violationsOf(twice)).toBe(1);
  });

  it('allows one more effect per seek for events after its position, and fails beyond it', () => {
    const effects = [...ids.slice(0, 4), third, third];
    const seekTargets = [at(1)];

    expect(checkInvariants(observations({ effects })).doubleEffects).toBe(2);
    // One seek before the third event allows it two effects: the third is one too many.
    expect(checkInvariants(observations({ effects, seekTargets })).doubleEffects).toBe(1);
    expect(checkInvariants(observations({ effects, seekTargets: [at(3)] })).doubleEffects).toBe(2);
  });

  it('allows a checkpoint behind the one before only just after an explicit seek', () => {
    const checkpoints = (afterSeek: boolean) => [
      { version: 1, position: at(3) },
      { version: 2, position: at(1), ...(afterSeek ? { afterSeek } : {}) },
    ];

    expect(checkInvariants(observations({ checkpoints: checkpoints(true) })).checkpointRegressions).toBe(0);
    expect(checkInvariants(observations({ checkpoints: checkpoints(false) })).checkpointRegressions).toBe(1);
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
      concurrency: 3,
      scenarios: ['aws-faults', 'late-writes'],
    });
    expect(parseArguments(['--concurrency', '1']).concurrency).toBe(1);
  });

  it.each([
    [['--seed', 'abc'], "--seed must be a whole number from 0 to 999999999 (given 'abc')"],
    [['--seed'], '--seed needs a value'],
    [['--scenario', 'nope'], "unknown scenario(s) 'nope'"],
    [['--fast'], "unknown argument '--fast'"],
    [['--concurrency', '0'], "--concurrency must be a whole number from 1 to 20 (given '0')"],
  ])('fails when given %j, naming the value', (argv, message) => {
    expect(() => parseArguments(argv)).toThrow(message);
  });
});
