import { describe, expect, it } from 'vitest';
import { ConflictError, LeaseLostError } from '../../lib/errors';
import type { ActivePipeline, FetcherContext } from '../../lib/fetcher/context';
import { fail } from '../../lib/fetcher/run-end';
import { PIPELINE_OUTCOME } from '../../lib/fetcher/types';

function failWith(error: Error): ActivePipeline {
  const quiet = () => undefined;
  const context = {
    logger: { warn: quiet, error: quiet, info: quiet, debug: quiet },
  } as unknown as FetcherContext;
  const item = { pipeline: { name: 'billing' }, done: false, leaseLost: false } as unknown as ActivePipeline;
  fail(context, item, error);
  return item;
}

describe('fail', () => {
  it('ends a run whose lease was lost as finished, not failed', () => {
    const item = failWith(
      new LeaseLostError({ lease: 'fetcher', pipeline: 'billing', token: 2, reason: 'taken over' }),
    );
    expect(item).toMatchObject({
      leaseLost: true,
      stopReason: 'lease lost',
      outcome: PIPELINE_OUTCOME.finished,
    });
    expect(item.error).toBeUndefined();
  });

  it('ends a run whose checkpoint a seek moved as finished, naming the seek', () => {
    const error = new ConflictError({
      kind: 'checkpoint-moved',
      pipeline: 'billing',
      expectedVersion: 3,
      actualVersion: 4,
    });
    expect(failWith(error)).toMatchObject({
      leaseLost: true,
      stopReason: 'checkpoint moved by a seek',
      outcome: PIPELINE_OUTCOME.finished,
    });
  });

  it('fails a run on any other conflict, naming the error', () => {
    const error = new ConflictError({
      kind: 'checkpoint-regression',
      pipeline: 'billing',
      from: 'a',
      position: 'b',
    });
    const item = failWith(error);
    expect(item).toMatchObject({
      leaseLost: false,
      stopReason: 'error: ConflictError',
      outcome: PIPELINE_OUTCOME.failed,
    });
    expect(item.error).toBe(error);
  });
});
