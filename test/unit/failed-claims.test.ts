import { describe, expect, it } from 'vitest';
import { CLAIM_LAYOUT, claimLostReason, refusedClaim } from '../../lib/failed/claims';
import { heldCondition, heldValues, leaseNames, takeCondition } from '../../lib/state/fenced-lease';

const HANDLED_AT = 1_714_564_800_000;

describe('a refused claim', () => {
  it('reports an event handled before, with when when the item says', () => {
    expect(refusedClaim({ status: { S: 'handled' }, handledAt: { N: String(HANDLED_AT) } })).toEqual({
      status: 'handled',
      handledAt: HANDLED_AT,
    });
  });

  it('reports an event handled before without a time when the item has none', () => {
    expect(refusedClaim({ status: { S: 'handled' } })).toEqual({ status: 'handled' });
  });

  it('reports an event another consumer holds, with when its claim ends', () => {
    expect(
      refusedClaim({
        status: { S: 'claimed' },
        claimToken: { S: 'other' },
        claimExpiresAt: { N: String(HANDLED_AT + 60_000) },
      }),
    ).toEqual({ status: 'busy', claimExpiresAt: HANDLED_AT + 60_000 });
  });

  it('reports a busy claim ending at 0 when the item shows no expiry', () => {
    expect(refusedClaim({})).toEqual({ status: 'busy', claimExpiresAt: 0 });
  });
});

describe('why a claim was lost', () => {
  it('says the item is gone when there is none', () => {
    expect(claimLostReason(undefined)).toBe('its claim item is gone');
  });

  it('says another consumer handled the event, whatever token is left', () => {
    expect(claimLostReason({ status: { S: 'handled' } })).toBe('another consumer handled it');
    expect(claimLostReason({ status: { S: 'handled' }, claimToken: { S: 'other' } })).toBe(
      'another consumer handled it',
    );
  });

  it('says the claim was released when no token is held', () => {
    expect(claimLostReason({ status: { S: 'claimed' }, claimExpiresAt: { N: '0' } })).toBe(
      'the claim was released',
    );
  });

  it('says another consumer took the event when a token is held', () => {
    expect(claimLostReason({ status: { S: 'claimed' }, claimToken: { S: 'other' } })).toBe(
      'the claim expired and another consumer took the event',
    );
  });
});

describe('the claim as a fenced lease', () => {
  it('is taken when its item is absent, or claimed and expired, never once handled', () => {
    expect(takeCondition(CLAIM_LAYOUT, { itemMustExist: false })).toBe(
      'attribute_not_exists(pk) OR (#status = :claimed AND claimExpiresAt <= :now)',
    );
  });

  it('is held by its token while claimed, past its expiry too', () => {
    expect(heldCondition(CLAIM_LAYOUT)).toBe('claimToken = :token AND #status = :claimed');
    expect(heldCondition(CLAIM_LAYOUT, { evenIfExpired: true })).toBe(heldCondition(CLAIM_LAYOUT));
    expect(heldValues(CLAIM_LAYOUT, { token: 'a-token' }, HANDLED_AT)).toEqual({
      ':token': { S: 'a-token' },
      ':claimed': { S: 'claimed' },
    });
    expect(leaseNames(CLAIM_LAYOUT)).toEqual({ ExpressionAttributeNames: { '#status': 'status' } });
  });
});
