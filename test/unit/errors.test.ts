import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  InvalidDefinitionError,
  LeaseLostError,
  MissingResourceError,
  SluiceError,
  TooLargeError,
  ValidationError,
} from '../../lib/errors';
import { HttpStatusError } from '../../lib/sync/errors';

describe('the error hierarchy', () => {
  it('gives every error a code, operation-failed when none is given', () => {
    expect(new SluiceError('boom').code).toBe('operation-failed');
    expect(new ValidationError('bad', 1).code).toBe('invalid-value');
    expect(new HttpStatusError({ url: 'https://x', status: 404, body: '' })).toMatchObject({
      name: 'HttpStatusError',
      code: 'http-status',
    });
  });

  it('tells validation cases apart by code, naming the rule, field and value', () => {
    expect(ValidationError.invalidTimeBucket('2024')).toMatchObject({
      code: 'invalid-time-bucket',
      value: '2024',
      message: expect.stringContaining('(given "2024")'),
    });
    expect(ValidationError.invalidEventId('x').code).toBe('invalid-event-id');
    expect(ValidationError.invalidPosition('timeBucket must be yyyyMMddHH0000 in UTC', 'x')).toMatchObject({
      code: 'invalid-position',
      rule: 'timeBucket must be yyyyMMddHH0000 in UTC',
    });
    expect(ValidationError.invalidRange('from lies after to', { from: 2, to: 1 }).code).toBe('invalid-range');
    expect(ValidationError.invalidName('event type', 'no slashes', 'a/b')).toMatchObject({
      code: 'invalid-name',
      field: 'event type',
      message: 'event type name "a/b" is invalid: no slashes',
    });
  });

  it('names what an invalid definition is of, as its message did before', () => {
    const error = new InvalidDefinitionError('stages', ['name must be set'], {});
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      code: 'invalid-definition',
      definition: 'stages',
      problems: ['name must be set'],
    });
    expect(error.message).toBe('invalid stages definition: name must be set');
  });

  it('keeps each too-large case’s fields, with limitBytes for a transaction too', () => {
    const transaction = new TooLargeError({
      what: 'transaction',
      eventCount: 101,
      sizeBytes: 10,
      maxEvents: 100,
      maxBytes: 4_000_000,
    });
    expect(transaction).toBeInstanceOf(ValidationError);
    expect(transaction).toMatchObject({
      code: 'too-large',
      eventCount: 101,
      maxEvents: 100,
      limitBytes: 4_000_000,
    });
    expect(transaction.stream).toBeUndefined();
    const event = new TooLargeError({
      what: 'event',
      stream: 'orders',
      type: 'big',
      sizeBytes: 500,
      limitBytes: 400,
    });
    expect(event).toMatchObject({ stream: 'orders', type: 'big', sizeBytes: 500, limitBytes: 400 });
    expect(event.message).toContain("event of type 'big' on stream 'orders' is 500 bytes stored");
  });

  it('sets only the fields of a conflict’s own kind', () => {
    const seek = new ConflictError({ kind: 'seek-contention', pipeline: 'billing', attempts: 8 });
    expect(seek).toMatchObject({
      code: 'conflict',
      kind: 'seek-contention',
      pipeline: 'billing',
      attempts: 8,
    });
    expect(seek.resource).toBeUndefined();
    expect(seek.message).toContain("seek of pipeline 'billing' did not land");
    const timing = new ConflictError({
      kind: 'stream-timing',
      stream: 'orders',
      stored: { settleWindowMs: 1_500, commitDeadlineMs: 1_000 },
      declared: { commitDeadlineMs: 3_000 },
    });
    expect(timing).toMatchObject({ stream: 'orders', declared: { commitDeadlineMs: 3_000 } });
    expect(timing.pipeline).toBeUndefined();
    expect(timing.message).toContain('this EventLog was given commitDeadlineMs 3000');
  });

  it('says which lease was lost, and whose', () => {
    const lost = { pipeline: 'p', eventId: 'e', reason: 'expired' };
    const claim = new LeaseLostError({ lease: 'failed-event claim', ...lost });
    expect(claim).toMatchObject({
      code: 'lease-lost',
      lease: 'failed-event claim',
      eventId: 'e',
      pipeline: 'p',
    });
    expect(claim.token).toBeUndefined();
    const sync = new LeaseLostError({
      lease: 'sync',
      resource: 'r',
      token: 3,
      currentToken: 4,
      reason: 'taken over',
    });
    expect(sync).toMatchObject({ resource: 'r', token: 3, currentToken: 4 });
    expect(sync.pipeline).toBeUndefined();
  });

  it('tells a missing resource from one that cannot be used', () => {
    const pipeline = new MissingResourceError('pipeline', 'billing');
    expect(pipeline).toMatchObject({
      code: 'resource-missing',
      resource: 'pipeline',
      resourceName: 'billing',
      pipeline: 'billing',
    });
    expect(pipeline.message).toBe("no pipeline named 'billing' is registered");
    const denied = Object.assign(new Error('not allowed'), { name: 'AccessDenied' });
    const queue = new MissingResourceError('queue', 'https://q', {
      cause: denied,
      code: 'resource-unusable',
    });
    expect(queue).toMatchObject({ code: 'resource-unusable', resource: 'queue', cause: denied });
    expect(queue.message).toBe('queue https://q cannot be used: AccessDenied: not allowed');
  });
});
