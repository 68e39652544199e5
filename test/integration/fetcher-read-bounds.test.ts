import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Position,
  parsePosition,
  positionAfterEvent,
  positionAtTime,
  type ReadAfterOptions,
  type ReadAfterPage,
} from '../../lib';
import { DEFAULT_READ_MAX_BYTES, DEFAULT_READ_MAX_QUERIES } from '../../lib/event-log/constants';
import type { EventSource } from '../../lib/event-log/event-source';
import { eventPartitionKey } from '../../lib/event-log/keys';
import { FETCHER_STEPS, type PipelineRunSummary } from '../../lib/fetcher/types';
import { eventIdToEpochMs } from '../../lib/time/event-id';
import { comparePositions, lastDeliveredBound } from '../../lib/time/position';
import { dynamodbClient, uniqueName } from '../support/aws';
import { steppingIdGenerator } from '../support/fixtures';
import { countQueries } from '../support/inject';
import { createPipelineFixture, drainQueue, receivedEventIds } from '../support/pipeline-fixture';

const HOUR = 3_600_000;
// The events of these tests are hours old when they are committed, so no reader tails them: their
// writers may take longer than the default commit deadline, as they do on a loaded machine.
const PATIENT_WRITER = { commitDeadlineMs: 10_000, settleWindowMs: 15_000 } as const;
let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;

beforeAll(async () => {
  fixture = await createPipelineFixture();
});
afterAll(() => fixture.drop());

/** The fixture's event log, recording every page the fetcher reads. */
function recordingSource(client: DynamoDBClient = fixture.dynamodb) {
  const log = fixture.eventLog({ client });
  const pages: ReadAfterPage[] = [];
  const source: EventSource = {
    listTimeBuckets: (stream, options) => log.listTimeBuckets(stream, options),
    async readAfter<TData>(stream: string, position: Position, options: ReadAfterOptions) {
      const page = await log.readAfter<TData>(stream, position, options);
      pages.push(page as ReadAfterPage);
      return page;
    },
  };
  return { source, pages };
}

describe('a pipeline that filters by event type', () => {
  const stream = uniqueName('mostly-noise');
  const startMs = Date.now() - 5 * HOUR;
  let wanted: string[];

  beforeAll(async () => {
    const log = fixture.eventLog({
      idGenerator: steppingIdGenerator(startMs, () => 5_000),
      ...PATIENT_WRITER,
    });
    // One event per commit: each is an item of its own, so the reads examine 3,000 items.
    await log.commitBatched(
      Array.from({ length: 3_000 }, (_, n) => ({ stream, type: 'noise', data: { n } })),
    );
    wanted = await log.commitBatched(
      Array.from({ length: 5 }, (_, n) => ({ stream, type: 'wanted', data: { n } })),
      { concurrency: 1 },
    );
  }, 120_000);

  it('crosses a backlog of other types in bounded reads, checkpointing as it goes, so a crash keeps the progress', async () => {
    // Prepare
    await fixture.store.putPipeline(
      fixture.pipeline({
        name: 'filtered',
        stream,
        eventTypes: ['wanted'],
        pageSize: 10,
        start: { position: positionAtTime(startMs) },
      }),
    );
    const client = dynamodbClient();
    const meter = countQueries(client);
    const { source } = recordingSource(client);
    const queriesPerRead: number[] = [];
    let reads = 0;
    const crashing = fixture.fetcher({
      source,
      pipelines: ['filtered'],
      onStep: (step) => {
        if (step !== FETCHER_STEPS.afterRead) return;
        queriesPerRead.push(meter.take().queries);
        reads += 1;
        if (reads === 4) throw new Error('killed');
      },
    });

    // Act: the process dies in its fourth read, with no final checkpoint.
    await expect(crashing.run({ budgetMs: 30_000, untilCaughtUp: true })).rejects.toThrow('killed');
    const afterCrash = await fixture.store.getState('filtered');
    await fixture.store.releaseLease({
      pipeline: 'filtered',
      owner: crashing.owner,
      token: afterCrash!.leaseToken,
      expiresAt: 0,
      state: afterCrash!,
    });
    const summary = await fixture
      .fetcher({
        source,
        pipelines: ['filtered'],
        onStep: (step) => {
          if (step === FETCHER_STEPS.afterRead) queriesPerRead.push(meter.take().queries);
        },
      })
      .run({ budgetMs: 30_000, untilCaughtUp: true });

    // Assess
    // Three reads' worth of progress survived the crash.
    expect(comparePositions(afterCrash!.position, positionAtTime(startMs + 20 * 60_000))).toBeGreaterThan(0);
    expect(Math.max(...queriesPerRead)).toBeLessThanOrEqual(DEFAULT_READ_MAX_QUERIES + 2);
    expect(summary.pipelines.filtered?.counts.checkpoints).toBeGreaterThan(2);
    expect(receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl))).toEqual(wanted);
  });
});

describe('a pipeline of large events', () => {
  it(`reads pages of at most ${DEFAULT_READ_MAX_BYTES} bytes of events, and delivers each event once`, async () => {
    // Prepare
    const stream = uniqueName('documents');
    const startMs = Date.now() - HOUR;
    const large = 'x'.repeat(300_000);
    const log = fixture.eventLog({
      idGenerator: steppingIdGenerator(startMs, () => 1_000),
      ...PATIENT_WRITER,
    });
    const ids: string[] = [];
    for (let index = 0; index < 24; index += 1)
      ids.push(await log.commit({ stream, type: 'document', data: { index, large } }));
    await fixture.store.putPipeline(
      fixture.pipeline({ name: 'documents', stream, start: { position: positionAtTime(startMs) } }),
    );
    const { source, pages } = recordingSource();

    // Act
    const summary = await fixture
      .fetcher({ source, pipelines: ['documents'] })
      .run({ budgetMs: 30_000, untilCaughtUp: true });

    // Assess
    expect(summary.pipelines.documents?.counts.eventsSent).toBe(24);
    expect(pages.map((page) => page.events.length)).toEqual([13, 11]);
    for (const page of pages) {
      const bytes = page.events.reduce((sum, event) => sum + JSON.stringify(event.data).length, 0);
      expect(bytes).toBeLessThanOrEqual(DEFAULT_READ_MAX_BYTES);
    }
    const received = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));
    expect(received.sort()).toEqual(ids);
  });
});

describe('a pipeline that lags past the stream retention', () => {
  it('records the range whose events may have expired unread, in its run and its metrics, and delivers the rest', async () => {
    // Prepare: events every 10 minutes from 3 hours ago, kept an hour; the fetcher knows no retention.
    const retentionSeconds = 3_600;
    const stream = uniqueName('kept-an-hour');
    const startMs = Date.now() - 3 * HOUR + 5 * 60_000;
    const writer = fixture.eventLog({
      idGenerator: steppingIdGenerator(startMs - 600_000, () => 600_000),
      ...PATIENT_WRITER,
      streams: { [stream]: { retentionSeconds } },
    });
    const ids: string[] = [];
    for (let index = 0; index < 17; index += 1)
      ids.push(await writer.commit({ stream, type: 'reading', data: { index } }));
    const nowSeconds = Math.floor(Date.now() / 1000);
    const expired = ids.filter(
      (id) => Math.floor(eventIdToEpochMs(id) / 1000) + retentionSeconds <= nowSeconds,
    );
    // DynamoDB Local never deletes expired items: delete the first half of the expired ones as TTL would.
    const deleted = expired.slice(0, 6);
    await fixture.dynamodb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [fixture.eventLog().tableName]: deleted.map((id) => ({
            DeleteRequest: {
              Key: {
                pk: { S: eventPartitionKey(stream, positionAfterEvent(id).timeBucket, 0) },
                sk: { S: id },
              },
            },
          })),
        },
      }),
    );
    const start = positionAtTime(startMs - HOUR);
    await fixture.store.putPipeline(
      fixture.pipeline({ name: 'lagging', stream, start: { position: start } }),
    );
    const recorded: PipelineRunSummary[] = [];

    // Act
    const summary = await fixture
      .fetcher({
        source: fixture.eventLog(),
        pipelines: ['lagging'],
        metrics: { recordPipelineRun: (run) => void recorded.push(run) },
      })
      .run({ budgetMs: 30_000, untilCaughtUp: true });

    // Assess
    const run = summary.pipelines.lagging;
    expect(parsePosition(run?.expired?.from as string)).toEqual(start);
    const to = lastDeliveredBound(parsePosition(run?.expired?.to as string));
    expect(to >= (expired.at(-1) as string)).toBe(true);
    expect(to < (ids[expired.length] as string)).toBe(true);
    expect(recorded[0]?.expired).toEqual(run?.expired);
    const [record] = await fixture.store.listRuns('lagging', 1);
    expect(record?.expired).toEqual(run?.expired);
    const received = receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl));
    expect(received.sort()).toEqual(ids.filter((id) => !deleted.includes(id)));
  });
});
