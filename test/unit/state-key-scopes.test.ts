import { describe, expect, it } from 'vitest';
import { type PipelineFunctionRole, stateKeyPatterns } from '../../infra/key-scopes';
import { backfillPipelineName } from '../../lib/pipeline/backfill-names';
import * as keys from '../../lib/state/keys';
import { EventIdGenerator } from '../../lib/time/event-id';
import { markerKey } from '../../lib/worker/marker-store';
import { iamLike } from '../support/iam';

const AT = Date.parse('2024-05-01T12:30:00.000Z');
const eventId = new EventIdGenerator({ now: () => AT }).next();
const messageName = markerKey([eventId], { pipeline: 'billing', epoch: 0 });

/** The partition keys each role of `pipeline` reads or writes, built as the library builds them. */
function partitionsOf(pipeline: string): Record<PipelineFunctionRole, string[]> {
  const backfill = backfillPipelineName(pipeline, 'b1');
  return {
    fetcher: [
      keys.registryKey(pipeline).pk,
      keys.pipelineStateKey(pipeline).pk,
      keys.pipelineRunsPartition(pipeline),
      keys.seeksPartition(pipeline),
      keys.pipelineStateKey(backfill).pk,
      keys.pipelineRunsPartition(backfill),
      keys.seeksPartition(backfill),
      keys.backfillCompletedKey(backfill).pk,
    ],
    worker: [keys.markerItemKey(pipeline, messageName).pk, keys.countersKey(pipeline).pk],
    failedHandler: [
      keys.claimKey(pipeline, eventId).pk,
      keys.claimKey(pipeline, eventId, 'r1').pk,
      keys.failureRecordKey(pipeline, AT, eventId).pk,
      keys.malformedRecordKey(pipeline, AT, 'message-1').pk,
      keys.markerItemKey(pipeline, messageName).pk,
    ],
    waker: [keys.pipelineStateKey(pipeline).pk],
  };
}

const ROLES: PipelineFunctionRole[] = ['fetcher', 'worker', 'failedHandler', 'waker'];
const allowed = (patterns: string[], key: string) => patterns.some((pattern) => iamLike(pattern, key));

describe('state-table key patterns of IAM conditions', () => {
  it('grants each role the partitions of its pipeline', () => {
    expect(stateKeyPatterns('billing', 'fetcher')).toEqual([
      'pipelines',
      'pipeline#billing',
      'pipeline#billing#*',
      'pipeline#billing.backfill.*',
      'backfill#billing.backfill.*',
    ]);
    expect(stateKeyPatterns('billing', 'worker')).toEqual(['marker#billing#*', 'counters#billing']);
    expect(stateKeyPatterns('billing', 'failedHandler')).toEqual([
      'failed#billing',
      'failures#billing#*',
      'malformed#billing#*',
      'marker#billing#*',
    ]);
    expect(stateKeyPatterns('billing', 'waker')).toEqual(['pipeline#billing']);
  });

  it.each(ROLES)('matches every key the library builds for the %s', (role) => {
    const patterns = stateKeyPatterns('billing', role);
    for (const key of partitionsOf('billing')[role]) expect(allowed(patterns, key), key).toBe(true);
  });

  it.each(ROLES)('matches none of another pipeline’s keys for the %s but the shared registry', (role) => {
    const patterns = stateKeyPatterns('billing', role);
    for (const other of ['shipping', 'billing2', 'bill']) {
      const others = partitionsOf(other)[role].filter((key) => key !== keys.registryKey(other).pk);
      for (const key of others) expect(allowed(patterns, key), key).toBe(false);
    }
  });
});
