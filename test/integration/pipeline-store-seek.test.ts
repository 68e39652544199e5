import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Position, positionAtTime } from '../../lib';
import { ConflictError } from '../../lib/errors';
import { PipelineStore, SEEK_MAX_ATTEMPTS } from '../../lib/state/pipeline-store';
import type { Lease } from '../../lib/state/types';
import { formatPosition } from '../../lib/time/position';
import { dynamodbClient } from '../support/aws';
import { createPipelineFixture } from '../support/pipeline-fixture';

let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;
const HOUR = 3_600_000;
const base = Date.UTC(2024, 4, 1);
const at = (hours: number): Position => positionAtTime(base + hours * HOUR);

beforeAll(async () => {
  fixture = await createPipelineFixture();
});
afterAll(() => fixture.drop());

/**
 * Runs `between` before the seek's transaction reaches DynamoDB, on the first `times` transactions of
 * `client`: a fetcher's checkpoint write landing between the seek's read and its write.
 */
function interleave(client: DynamoDBClient, times: number, between: () => Promise<void>): () => number {
  let count = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand' && count < times) {
        count += 1;
        await between();
      }
      return next(args);
    },
    { step: 'initialize', name: 'testInterleaveCheckpoint', override: true },
  );
  return () => count;
}

/** A fetcher of the pipeline: its lease, and a checkpoint write one hour further on each call. */
async function workingFetcher(pipeline: string) {
  const lease = (await fixture.store.acquireLease(pipeline, 'fetcher-1', 60_000)) as Lease;
  let version = lease.state.version;
  let written = lease.state.position;
  let hour = 0;
  return {
    async checkpoint(): Promise<Position> {
      hour += 1;
      const position = at(hour);
      version = await fixture.store.writeCheckpoint(lease, {
        position,
        expectedVersion: version,
        previous: written,
        leaseDurationMs: 60_000,
      });
      written = position;
      return position;
    },
  };
}

describe('PipelineStore.seek on a working pipeline', () => {
  it('lands when a fetcher writes a checkpoint between the seek read and its write, and records the true from', async () => {
    // Prepare
    await fixture.store.putPipeline(fixture.pipeline({ name: 'raced', stream: fixture.stream }));
    const fetcher = await workingFetcher('raced');
    await fetcher.checkpoint();
    let racedTo: Position | undefined;
    const client = dynamodbClient();
    const interleaved = interleave(client, 1, async () => {
      racedTo = await fetcher.checkpoint();
    });
    const seeker = new PipelineStore({ tableName: fixture.store.tableName, client });

    // Act
    const state = await seeker.seek('raced', at(-5), { reason: 'replay' });

    // Assess
    expect(interleaved()).toBe(1);
    expect(state.position).toEqual(at(-5));
    expect(state.epoch).toBe(1);
    const seeks = await fixture.store.listSeeks('raced');
    expect(seeks).toHaveLength(1);
    expect(seeks[0]).toMatchObject({ from: formatPosition(racedTo as Position), to: formatPosition(at(-5)) });
    // The fetcher's next write meets the seek and stops it, as documented.
    await expect(fetcher.checkpoint()).rejects.toMatchObject({
      constructor: ConflictError,
      kind: 'checkpoint-moved',
    });
  });

  it('lands both of two concurrent seeks, one after the other', async () => {
    // Prepare
    await fixture.store.putPipeline(fixture.pipeline({ name: 'two-seeks', stream: fixture.stream }));
    const before = await fixture.store.getState('two-seeks');
    const other = new PipelineStore({ tableName: fixture.store.tableName, client: dynamodbClient() });

    // Act
    await Promise.all([
      fixture.store.seek('two-seeks', at(1), { reason: 'first' }),
      other.seek('two-seeks', at(2), { reason: 'second' }),
    ]);

    // Assess
    const after = await fixture.store.getState('two-seeks');
    expect(after?.version).toBe((before?.version ?? 0) + 2);
    expect(after?.epoch).toBe(2);
    const [last, first] = await fixture.store.listSeeks('two-seeks');
    expect(formatPosition(after!.position)).toBe(last?.to);
    // The later seek moved from where the earlier one left the checkpoint.
    expect(last?.from).toBe(first?.to);
  });

  it('fails with a ConflictError (seek-contention) that says what to do when the checkpoint changes under every attempt', async () => {
    // Prepare
    await fixture.store.putPipeline(fixture.pipeline({ name: 'busy', stream: fixture.stream }));
    const fetcher = await workingFetcher('busy');
    const client = dynamodbClient();
    interleave(client, Number.POSITIVE_INFINITY, async () => {
      await fetcher.checkpoint();
    });
    const seeker = new PipelineStore({ tableName: fixture.store.tableName, client });

    // Act
    const seek = seeker.seek('busy', at(-5));

    // Assess
    await expect(seek).rejects.toMatchObject({ constructor: ConflictError, kind: 'seek-contention' });
    await expect(seek).rejects.toThrow(
      new RegExp(
        `seek of pipeline 'busy' did not land: .* each of ${SEEK_MAX_ATTEMPTS} attempts .* nothing was changed\\. Seek again, or disable the pipeline`,
      ),
    );
    const state = await fixture.store.getState('busy');
    expect(state?.epoch).toBe(0);
    expect(state?.position).toEqual(at(SEEK_MAX_ATTEMPTS));
    expect(await fixture.store.listSeeks('busy')).toEqual([]);
  });
});
