import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { positionAfterEvent } from '../../lib';
import { FETCHER_STEPS, PIPELINE_OUTCOME, type PipelineRunSummary } from '../../lib/fetcher/types';
import type { RunRecord } from '../../lib/state/types';
import { uniqueName } from '../support/aws';
import { steppingIdGenerator } from '../support/fixtures';
import { createPipelineFixture, drainQueue, receivedEventIds } from '../support/pipeline-fixture';

let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;
let ids: string[];

beforeAll(async () => {
  fixture = await createPipelineFixture();
  const log = fixture.eventLog({ idGenerator: steppingIdGenerator(Date.now() - 3 * 3_600_000, () => 2_000) });
  ids = [];
  for (let start = 0; start < 1_000; start += 100) {
    ids.push(
      ...(await log.commit(
        Array.from({ length: 100 }, (_, offset) => ({
          stream: fixture.stream,
          type: 'tick',
          data: { n: start + offset },
        })),
      )),
    );
  }
}, 60_000);
afterAll(() => fixture.drop());

describe('one fetcher, many pipelines', () => {
  it('takes one page of each pipeline in turn, so a large backlog does not starve a small one', async () => {
    await fixture.store.putPipeline(fixture.pipeline({ name: 'big', stream: fixture.stream, pageSize: 100 }));
    await fixture.store.putPipeline(
      fixture.pipeline({
        name: 'small',
        stream: fixture.stream,
        pageSize: 100,
        start: { position: positionAfterEvent(ids[699] as string) },
      }),
    );
    const reads: string[] = [];
    const summary = await fixture
      .fetcher({
        source: fixture.eventLog(),
        pipelines: ['big', 'small'],
        onStep: (step, { pipeline }) => {
          if (step === FETCHER_STEPS.afterRead) reads.push(pipeline);
        },
      })
      .run({ budgetMs: 30_000, untilCaughtUp: true });

    // 'small' has 300 events (3 pages and a last, empty read), 'big' 1,000 (10 pages and a last read).
    const firstEight = reads.slice(0, 8);
    expect(new Set(firstEight)).toEqual(new Set(['big', 'small']));
    for (let index = 1; index < firstEight.length; index += 1)
      expect(firstEight[index]).not.toBe(firstEight[index - 1]);
    expect(reads.filter((name) => name === 'small')).toHaveLength(4);
    expect(summary.pipelines.small?.counts.eventsSent).toBe(300);
    expect(summary.pipelines.big?.counts.eventsSent).toBe(1_000);
    await drainQueue(fixture.sqs, fixture.queue.queueUrl);
  });

  it('records a failed run for a stored definition that no longer validates, and carries on with the others', async () => {
    await fixture.dynamodb.send(
      new PutItemCommand({
        TableName: fixture.store.tableName,
        Item: {
          pk: { S: 'pipelines' },
          sk: { S: 'broken' },
          definition: {
            S: JSON.stringify({
              name: 'broken',
              stream: fixture.stream,
              queueUrl: 'nowhere',
              bufferSize: -1,
            }),
          },
        },
      }),
    );
    await fixture.store.putPipeline(fixture.pipeline({ name: 'healthy', stream: fixture.stream }));
    const recorded: PipelineRunSummary[] = [];
    const summary = await fixture
      .fetcher({
        source: fixture.eventLog(),
        pipelines: ['broken', 'healthy'],
        metrics: { recordPipelineRun: (run) => void recorded.push(run) },
      })
      .run({ budgetMs: 20_000, untilCaughtUp: true });
    expect(summary.pipelines.broken?.outcome).toBe(PIPELINE_OUTCOME.failed);
    expect(summary.pipelines.broken?.error?.message).toMatch(
      /queueUrl: .*\(given "nowhere"\).*bufferSize: .*\(given -1\)/,
    );
    expect(summary.pipelines.healthy?.counts.eventsSent).toBe(1_000);
    // The broken pipeline reaches the metrics too, so an alarm on failed runs sees it.
    expect(recorded.map((run) => [run.pipeline, run.outcome]).sort()).toEqual([
      ['broken', PIPELINE_OUTCOME.failed],
      ['healthy', PIPELINE_OUTCOME.finished],
    ]);
    expect(new Set(receivedEventIds(await drainQueue(fixture.sqs, fixture.queue.queueUrl)))).toEqual(
      new Set(ids),
    );
  });

  it('moves a pipeline on an empty stream to the settled horizon without error, and notifies how the run ended', async () => {
    const finished: RunRecord[] = [];
    const empty = uniqueName('empty');
    await fixture.store.putPipeline(fixture.pipeline({ name: 'empty', stream: empty }));
    const before = await fixture.store.getState('empty');
    const summary = await fixture
      .fetcher({
        source: fixture.eventLog(),
        pipelines: ['empty'],
        notifier: { onRunFinished: (run) => void finished.push(run) },
      })
      .run({ budgetMs: 10_000, untilCaughtUp: true });
    expect(summary.pipelines.empty).toMatchObject({
      outcome: PIPELINE_OUTCOME.finished,
      stopReason: 'caught up',
      counts: { eventsSent: 0 },
    });
    const after = await fixture.store.getState('empty');
    expect(after!.position.timeBucket > before!.position.timeBucket).toBe(true);
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ pipeline: 'empty', status: 'finished', stopReason: 'caught up' });
  });
});
