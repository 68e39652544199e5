import { describe, expect, it } from 'vitest';
import { type PipelineFunctionRole, stateKeyPatterns } from '../../infra/key-scopes';
import { backfillPipelineName } from '../../lib/pipeline/backfill-names';
import {
  backfillCompletedKey,
  claimKey,
  countersKey,
  failureRecordKey,
  malformedRecordKey,
  markerItemKey,
  pipelineRunsPartition,
  pipelineStateKey,
  registryKey,
  seeksPartition,
} from '../../lib/state/keys';
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
      registryKey(pipeline).pk,
      pipelineStateKey(pipeline).pk,
      pipelineRunsPartition(pipeline),
      seeksPartition(pipeline),
      pipelineStateKey(backfill).pk,
      pipelineRunsPartition(backfill),
      seeksPartition(backfill),
      backfillCompletedKey(backfill).pk,
    ],
    worker: [markerItemKey(pipeline, messageName).pk, countersKey(pipeline).pk],
    failedHandler: [
      claimKey(pipeline, eventId).pk,
      claimKey(pipeline, eventId, 'r1').pk,
      failureRecordKey(pipeline, AT, eventId).pk,
      malformedRecordKey(pipeline, AT, 'message-1').pk,
      markerItemKey(pipeline, messageName).pk,
    ],
  };
}

const ROLES: PipelineFunctionRole[] = ['fetcher', 'worker', 'failedHandler'];
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
  });

  it.each(ROLES)('matches every key the library builds for the %s', (role) => {
    const patterns = stateKeyPatterns('billing', role);
    for (const key of partitionsOf('billing')[role]) expect(allowed(patterns, key), key).toBe(true);
  });

  it.each(ROLES)('matches none of another pipeline’s keys for the %s but the shared registry', (role) => {
    const patterns = stateKeyPatterns('billing', role);
    for (const other of ['shipping', 'billing2', 'bill']) {
      const keys = partitionsOf(other)[role].filter((key) => key !== registryKey(other).pk);
      for (const key of keys) expect(allowed(patterns, key), key).toBe(false);
    }
  });
});
