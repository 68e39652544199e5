import { describe, expect, it } from 'vitest';
import {
  afterEmptyPage,
  checkpointDue,
  checkpointUnwritten,
  currentPlanOf,
  idleAfterWake,
  type LeaseTiming,
  reachedStopAt,
  readThroughWake,
  replayEnd,
  replayReadDone,
  WRITER_ID_LEAD_MS,
} from '../../lib/fetcher/step-plan';
import type { SendPlan } from '../../lib/state/types';
import { EventIdGenerator } from '../../lib/time/event-id';
import {
  comparePositions,
  positionAfterEvent,
  positionAtTime,
  positionBeforeEvent,
} from '../../lib/time/position';

const START_MS = Date.parse('2024-05-01T12:30:00.000Z');
const idAt = (ms: number) => new EventIdGenerator({ now: () => ms }).next();

const first = idAt(START_MS - 2_000);
const second = idAt(START_MS - 1_000);
const third = idAt(START_MS);

const PLAN: SendPlan = {
  through: second,
  events: 2,
  messages: 2,
  sent: 0,
  epoch: 0,
  maxEventsPerMessage: 10,
  maxMessageBytes: 262_144,
  fifo: false,
};

describe('reachedStopAt', () => {
  it('stops a caught-up pipeline whose position is exactly its stopAt', () => {
    // Prepare
    const stopAt = positionAfterEvent(second);

    // Act
    const reached = reachedStopAt(true, positionAfterEvent(second), stopAt);

    // Assess
    expect(reached).toBe(true);
  });

  it('stops a caught-up pipeline past its stopAt, and not one an event short of it', () => {
    // Prepare
    const stopAt = positionAfterEvent(second);

    // Act
    const past = reachedStopAt(true, positionAfterEvent(third), stopAt);
    const short = reachedStopAt(true, positionAfterEvent(first), stopAt);
    const justBefore = reachedStopAt(true, positionBeforeEvent(second), stopAt);

    // Assess
    expect([past, short, justBefore]).toEqual([true, false, false]);
  });

  it('does not stop a pipeline whose read did not catch up, even at its stopAt', () => {
    // Act
    const reached = reachedStopAt(false, positionAfterEvent(second), positionAfterEvent(second));

    // Assess
    expect(reached).toBe(false);
  });

  it('never stops a pipeline without a stopAt', () => {
    // Act
    const reached = reachedStopAt(true, positionAfterEvent(third), undefined);

    // Assess
    expect(reached).toBe(false);
  });
});

describe('readThroughWake', () => {
  it('is done once the id the waker saw is delivered, and not while it is the next one', () => {
    // Act
    const at = readThroughWake(positionAfterEvent(second), START_MS, second);
    const before = readThroughWake(positionBeforeEvent(second), START_MS, second);
    const earlier = readThroughWake(positionAfterEvent(first), START_MS, second);

    // Assess
    expect([at, before, earlier]).toEqual([true, false, false]);
  });

  it('reads through an id a fast writer clock put seconds past the run start, not just past the lead', () => {
    // Prepare: an id 3 s ahead of the run's start
    const ahead = idAt(START_MS + 3_000);

    // Act
    const pastLead = readThroughWake(positionAtTime(START_MS + WRITER_ID_LEAD_MS + 1), START_MS, ahead);
    const pastId = readThroughWake(positionAfterEvent(ahead), START_MS, ahead);

    // Assess
    expect([pastLead, pastId]).toEqual([false, true]);
  });

  it('without an id, is done exactly when the horizon is WRITER_ID_LEAD_MS past the run start', () => {
    // Act
    const atLead = readThroughWake(positionAtTime(START_MS + WRITER_ID_LEAD_MS), START_MS, undefined);
    const shortOfLead = readThroughWake(
      positionAtTime(START_MS + WRITER_ID_LEAD_MS - 1),
      START_MS,
      undefined,
    );
    const atStart = readThroughWake(positionAtTime(START_MS), START_MS, undefined);

    // Assess
    expect([atLead, shortOfLead, atStart]).toEqual([true, false, false]);
  });
});

describe('idleAfterWake', () => {
  const readThrough = positionAfterEvent(second);

  it('leaves a pipeline idle for exactly untilIdleMs that has read through what woke the run', () => {
    // Act
    const idle = idleAfterWake(
      { idleForMs: 2_000, position: readThrough, startedAt: START_MS },
      { untilIdleMs: 2_000, readThrough: second },
    );

    // Assess
    expect(idle).toBe(true);
  });

  it('stays with a pipeline idle for a millisecond less than untilIdleMs', () => {
    // Act
    const idle = idleAfterWake(
      { idleForMs: 1_999, position: readThrough, startedAt: START_MS },
      { untilIdleMs: 2_000, readThrough: second },
    );

    // Assess
    expect(idle).toBe(false);
  });

  it('stays with an idle pipeline that has not yet delivered the id the waker saw', () => {
    // Act
    const idle = idleAfterWake(
      { idleForMs: 60_000, position: positionAfterEvent(first), startedAt: START_MS },
      { untilIdleMs: 2_000, readThrough: second },
    );

    // Assess
    expect(idle).toBe(false);
  });

  it('without an id, stays until the horizon passes the run start by the writer lead, however idle', () => {
    // Act
    const early = idleAfterWake(
      { idleForMs: 60_000, position: positionAtTime(START_MS + 500), startedAt: START_MS },
      { untilIdleMs: 0 },
    );
    const late = idleAfterWake(
      { idleForMs: 0, position: positionAtTime(START_MS + WRITER_ID_LEAD_MS), startedAt: START_MS },
      { untilIdleMs: 0 },
    );

    // Assess
    expect([early, late]).toEqual([false, true]);
  });
});

describe('afterEmptyPage', () => {
  it.each([
    {
      name: 'moves to where a caught-up read stopped, and leaves the checkpoint to the end of the step',
      at: third,
      caughtUp: true,
      expected: { readOn: false, checkpoint: false },
    },
    {
      name: 'reads on from a read stopped at its bounds, and saves the position when it passed the checkpoint',
      at: third,
      caughtUp: false,
      expected: { readOn: true, checkpoint: true },
    },
    {
      name: 'writes no checkpoint when a read stopped at its bounds where the checkpoint already is',
      at: first,
      caughtUp: false,
      expected: { readOn: true, checkpoint: false },
    },
  ])('$name', ({ at, caughtUp, expected }) => {
    // Act: the checkpoint is after the first event
    const move = afterEmptyPage({ position: positionAfterEvent(at), caughtUp }, positionAfterEvent(first));

    // Assess
    expect(move).toEqual({ position: positionAfterEvent(at), ...expected });
  });
});

describe('currentPlanOf', () => {
  it('is the pending plan with how many of its messages SQS accepted, and none between pages', () => {
    // Act
    const current = currentPlanOf({ plan: PLAN, next: 1 });
    const between = currentPlanOf(undefined);

    // Assess
    expect(current).toEqual({ ...PLAN, sent: 1 });
    expect(PLAN.sent).toBe(0);
    expect(between).toBeUndefined();
  });
});

describe('checkpointUnwritten', () => {
  const written = positionAfterEvent(first);

  it('is false when the position and the plan are as stored, the plan as an equal copy', () => {
    // Act
    const lags = checkpointUnwritten({ position: written, written, plan: { ...PLAN }, storedPlan: PLAN });

    // Assess
    expect(lags).toBe(false);
  });

  it('is true when the position moved past the checkpoint', () => {
    // Act
    const lags = checkpointUnwritten({
      position: positionAfterEvent(second),
      written,
      plan: undefined,
      storedPlan: undefined,
    });

    // Assess
    expect(lags).toBe(true);
  });

  it("is true when more of the plan's messages went than the stored plan says, or the plan is done", () => {
    // Act
    const progressed = checkpointUnwritten({
      position: written,
      written,
      plan: { ...PLAN, sent: 1 },
      storedPlan: PLAN,
    });
    const cleared = checkpointUnwritten({ position: written, written, plan: undefined, storedPlan: PLAN });
    const planned = checkpointUnwritten({ position: written, written, plan: PLAN, storedPlan: undefined });

    // Assess
    expect([progressed, cleared, planned]).toEqual([true, true, true]);
  });
});

describe('checkpointDue', () => {
  const NOW = START_MS;
  const timing = (change: Partial<LeaseTiming>): LeaseTiming => ({
    now: NOW,
    leaseExpiresAt: NOW + 60_000,
    leaseDurationMs: 60_000,
    lastWriteAt: NOW,
    idleCheckpointIntervalMs: 30_000,
    unwritten: false,
    ...change,
  });

  it('renews a lease with less than half its duration left, and not one with exactly half', () => {
    // Act
    const halfGone = checkpointDue(timing({ leaseExpiresAt: NOW + 29_999 }));
    const exactlyHalf = checkpointDue(timing({ leaseExpiresAt: NOW + 30_000 }));

    // Assess
    expect([halfGone, exactlyHalf]).toEqual([true, false]);
  });

  it('writes a lagging checkpoint once exactly the idle interval has passed, not a millisecond sooner', () => {
    // Act
    const due = checkpointDue(timing({ lastWriteAt: NOW - 30_000, unwritten: true }));
    const soon = checkpointDue(timing({ lastWriteAt: NOW - 29_999, unwritten: true }));

    // Assess
    expect([due, soon]).toEqual([true, false]);
  });

  it('writes nothing after the idle interval when the checkpoint holds all the fetcher knows', () => {
    // Act
    const due = checkpointDue(timing({ lastWriteAt: NOW - 300_000, leaseExpiresAt: NOW + 59_000 }));

    // Assess
    expect(due).toBe(false);
  });
});

describe('replaying a plan left behind', () => {
  it('reads until just past the plan’s last event, or until the read caught up', () => {
    // Act
    const atEnd = replayReadDone({ position: positionAfterEvent(second), caughtUp: false }, second);
    const short = replayReadDone({ position: positionAfterEvent(first), caughtUp: false }, second);
    const caughtUp = replayReadDone({ position: positionAfterEvent(first), caughtUp: true }, second);

    // Assess
    expect([atEnd, short, caughtUp]).toEqual([true, false, true]);
  });

  it('ends just past the plan’s last event, or where the reads stopped short of it', () => {
    // Act
    const past = replayEnd(positionAfterEvent(third), second);
    const at = replayEnd(positionAfterEvent(second), second);
    const short = replayEnd(positionAfterEvent(first), second);

    // Assess
    expect(past).toEqual(positionAfterEvent(second));
    expect(comparePositions(at, positionAfterEvent(second))).toBe(0);
    expect(short).toEqual(positionAfterEvent(first));
  });
});
