import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { positionAfterEvent, positionAtTime } from '../../lib';
import { ConflictError } from '../../lib/errors';
import { checkpointMoveError, refusedCheckpoint } from '../../lib/state/checkpoint-write';
import { PIPELINE_STATUS, type PipelineState } from '../../lib/state/types';
import { EventIdGenerator } from '../../lib/time/event-id';
import { comparePositions, formatPosition, type Position, positionTimeMs } from '../../lib/time/position';

const START_MS = Date.parse('2024-05-01T12:30:00.000Z');
const idAt = (ms: number) => new EventIdGenerator({ now: () => ms }).next();

const earlier = positionAfterEvent(idAt(START_MS - 1_000));
const later = positionAfterEvent(idAt(START_MS));

/** Positions from 1970 to 9000, at a bucket's start, an instant, or just after an event. */
const anyPosition: fc.Arbitrary<Position> = fc
  .tuple(fc.integer({ min: 3_600_000, max: Date.UTC(9000, 0, 1) }), fc.constantFrom('time', 'event'))
  .map(([ms, how]) => (how === 'time' ? positionAtTime(ms) : positionAfterEvent(idAt(ms))));

/** Checks that `refused` is a `ConflictError` of pipeline `billing` with these fields. */
function expectConflict(refused: ConflictError | undefined, fields: Partial<ConflictError>): void {
  expect(refused).toBeInstanceOf(ConflictError);
  expect(refused).toMatchObject({ code: 'conflict', pipeline: 'billing', ...fields });
}

describe('checkpointMoveError', () => {
  it('refuses a checkpoint that moves backwards with kind checkpoint-regression, naming both positions', () => {
    const refused = checkpointMoveError('billing', { position: earlier, previous: later }, undefined);

    expectConflict(refused, {
      kind: 'checkpoint-regression',
      from: formatPosition(later),
      position: formatPosition(earlier),
    });
  });

  it('refuses a backward move as a regression even when it also lies after the server clock', () => {
    const refused = checkpointMoveError(
      'billing',
      { position: earlier, previous: later },
      positionTimeMs(earlier) - 60_000,
    );

    expect(refused?.kind).toBe('checkpoint-regression');
  });

  it('refuses a forward move past the server clock with kind checkpoint-in-future, naming the clock', () => {
    const serverLatestMs = positionTimeMs(later) - 1;

    const refused = checkpointMoveError('billing', { position: later, previous: earlier }, serverLatestMs);

    expectConflict(refused, {
      kind: 'checkpoint-in-future',
      position: formatPosition(later),
      serverTimeMs: serverLatestMs,
    });
  });

  it('allows a forward move that lies exactly at the server clock, or before it', () => {
    const at = checkpointMoveError('billing', { position: later, previous: earlier }, positionTimeMs(later));
    const before = checkpointMoveError(
      'billing',
      { position: later, previous: earlier },
      positionTimeMs(later) + 1,
    );

    expect(at).toBeUndefined();
    expect(before).toBeUndefined();
  });

  it('allows a forward move of any distance when the server clock is not known yet', () => {
    const far = positionAtTime(Date.UTC(8999, 0, 1));

    expect(checkpointMoveError('billing', { position: far, previous: earlier }, undefined)).toBeUndefined();
  });

  it('allows writing the position read again, even one after the server clock, since nothing moves', () => {
    const refused = checkpointMoveError(
      'billing',
      { position: later, previous: later },
      positionTimeMs(later) - 60_000,
    );

    expect(refused).toBeUndefined();
  });

  it('refuses exactly the moves backwards, and the moves forward past the server clock', () => {
    fc.assert(
      fc.property(
        anyPosition,
        anyPosition,
        fc.option(fc.integer({ min: 0, max: Date.UTC(9000, 0, 1) }), { nil: undefined }),
        (position, previous, serverLatestMs) => {
          const move = comparePositions(position, previous);
          const refused = checkpointMoveError('billing', { position, previous }, serverLatestMs);

          const inFuture =
            move > 0 && serverLatestMs !== undefined && positionTimeMs(position) > serverLatestMs;
          const expected = move < 0 ? 'checkpoint-regression' : inFuture ? 'checkpoint-in-future' : undefined;
          expect(refused?.kind).toBe(expected);
        },
      ),
    );
  });

  it('never refuses a position written again, whatever the server clock says', () => {
    fc.assert(
      fc.property(
        anyPosition,
        fc.integer({ min: 0, max: Date.UTC(9000, 0, 1) }),
        (position, serverLatestMs) => {
          expect(
            checkpointMoveError('billing', { position, previous: position }, serverLatestMs),
          ).toBeUndefined();
        },
      ),
    );
  });
});

describe('refusedCheckpoint', () => {
  const NOW = START_MS;
  const lease = { token: 7, owner: 'fetcher-a' };
  const write = { position: later, expectedVersion: 4 };

  /** The state after this very write landed: next version, this lease's token and owner, its position. */
  const landedState: PipelineState = {
    pipeline: 'billing',
    position: later,
    version: 5,
    epoch: 0,
    checkpointToken: 7,
    checkpointedAt: NOW,
    status: PIPELINE_STATUS.running,
    leaseOwner: 'fetcher-a',
    leaseExpiresAt: NOW + 30_000,
    leaseToken: 7,
  };

  /** A state the lease still holds, whose version a seek moved: a seek writes token 0. */
  const seekedState: PipelineState = { ...landedState, position: earlier, version: 6, checkpointToken: 0 };

  it('says lease lost when the pipeline state is gone', () => {
    expect(refusedCheckpoint(lease, write, undefined, NOW)).toBe('lease lost');
  });

  it('says landed when the state is this write itself: the next version, this token and owner, this position', () => {
    expect(refusedCheckpoint(lease, write, landedState, NOW)).toBe('landed');
  });

  it('says landed even once the lease expired, since the write it finds is this one', () => {
    const expired = { ...landedState, leaseExpiresAt: NOW - 1 };

    expect(refusedCheckpoint(lease, write, expired, NOW)).toBe('landed');
  });

  it.each([
    ['another version', { version: 6 }],
    ['another checkpoint token (a seek writes 0)', { checkpointToken: 0 }],
    ['another lease owner', { leaseOwner: 'fetcher-b', leaseToken: 8 }],
    ['another position', { position: earlier }],
  ] satisfies [string, Partial<PipelineState>][])('does not say landed for a state with %s', (_, change) => {
    expect(refusedCheckpoint(lease, write, { ...landedState, ...change }, NOW)).not.toBe('landed');
  });

  it('says conflict when the lease is still held but the version moved (a seek)', () => {
    expect(refusedCheckpoint(lease, write, seekedState, NOW)).toBe('conflict');
  });

  it.each([
    ['another fetcher took the lease over', { leaseToken: 8, leaseOwner: 'fetcher-b' }],
    ['the lease token moved on under the same owner', { leaseToken: 8 }],
    ['another owner holds the same token', { leaseOwner: 'fetcher-b' }],
    ['the lease was released', { leaseOwner: undefined }],
    ['the lease expires exactly now', { leaseExpiresAt: NOW }],
    ['the lease expired', { leaseExpiresAt: NOW - 1 }],
  ] satisfies [string, Partial<PipelineState>][])('says lease lost when %s', (_, change) => {
    expect(refusedCheckpoint(lease, write, { ...seekedState, ...change }, NOW)).toBe('lease lost');
  });

  it('says landed only for this write, conflict only under a live lease of this holder, lease lost otherwise', () => {
    const smallState = fc.record({
      version: fc.integer({ min: 3, max: 6 }),
      checkpointToken: fc.integer({ min: 6, max: 8 }),
      leaseToken: fc.integer({ min: 6, max: 8 }),
      leaseOwner: fc.constantFrom('fetcher-a', 'fetcher-b', undefined),
      leaseExpiresAt: fc.integer({ min: NOW - 2, max: NOW + 2 }),
      position: fc.constantFrom(earlier, later),
    });
    fc.assert(
      fc.property(smallState, (change) => {
        const current: PipelineState = { ...landedState, ...change };

        const outcome = refusedCheckpoint(lease, write, current, NOW);

        const ownedBy = current.leaseOwner === lease.owner;
        const isThisWrite =
          current.version === write.expectedVersion + 1 &&
          current.checkpointToken === lease.token &&
          ownedBy &&
          comparePositions(current.position, write.position) === 0;
        const held = current.leaseToken === lease.token && ownedBy && current.leaseExpiresAt > NOW;
        expect(outcome).toBe(isThisWrite ? 'landed' : held ? 'conflict' : 'lease lost');
      }),
    );
  });
});
