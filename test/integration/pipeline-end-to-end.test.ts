import { DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker, type FailedEvent } from '../../lib';
import { handleDeadLetters } from '../../lib/failed/dlq-consumer';
import { FailureStore } from '../../lib/failed/failure-store';
import { sleep, steppingIdGenerator } from '../support/fixtures';
import { createPipelineFixture } from '../support/pipeline-fixture';
import { lambdaContext, receiveAsLambdaEvent } from '../support/worker-fixture';

type Order = { n: number; poison?: boolean; flaky?: boolean };
const EVENT_COUNT = 300;
const POISON = new Set([17, 150, 299]);
const FLAKY = new Set([3, 42, 200, 201]);

// Invariants 1, 2 and 4 through every part built so far: events committed to the log reach the
// handler (none lost), each handler effect lands once, and each poison event reaches the failed
// handler once, with its last error, after maxRedeliveryCount attempts.
describe('a pipeline end to end: log, fetcher, queue, worker, dead-letter queue, failed handler', () => {
  let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;
  let ids: string[];
  beforeAll(async () => {
    fixture = await createPipelineFixture();
    const log = fixture.eventLog({
      idGenerator: steppingIdGenerator(Date.now() - 5 * 3_600_000, () => 30_000),
    });
    const inputs = Array.from({ length: EVENT_COUNT }, (_, n) => ({
      stream: fixture.stream,
      type: 'order',
      data: {
        n,
        ...(POISON.has(n) ? { poison: true } : {}),
        ...(FLAKY.has(n) ? { flaky: true } : {}),
      } as Order,
    }));
    ids = [];
    for (let start = 0; start < inputs.length; start += 100)
      ids.push(...(await log.commit(inputs.slice(start, start + 100))));
  }, 60_000);
  afterAll(() => fixture.drop());

  it('delivers every event, commits each effect once, and hands each poison event over once', async () => {
    const outputs = `${fixture.stream}-out`;
    const attemptsSeen = new Map<number, number>();
    await fixture.store.putPipeline(
      fixture.pipeline({ name: 'e2e', stream: fixture.stream, maxEventsPerMessage: 10 }),
    );
    const worker = createWorker<Order>(
      {
        pipeline: 'e2e',
        stateTable: fixture.store.tableName,
        deadLetterQueueUrl: fixture.queue.deadLetterQueueUrl,
        queueUrl: fixture.queue.queueUrl,
        sqs: fixture.sqs,
        dynamodb: fixture.dynamodb,
        eventLog: fixture.eventLog(),
        maxRedeliveryCount: 3,
        backoff: { baseDelaySeconds: 1, maxDelaySeconds: 1, jitter: false },
        handle: async (event) => {
          attemptsSeen.set(event.data.n, event.attempt);
          if (event.data.poison) throw new Error(`order ${event.data.n} is poison`);
          if (event.data.flaky && event.attempt === 1) throw new Error(`order ${event.data.n} hit a timeout`);
          return { stream: outputs, type: 'order.done', data: { n: event.data.n } };
        },
      },
      {},
    );
    const failures = new FailureStore({ tableName: fixture.store.tableName, client: fixture.dynamodb });
    const handedOver: FailedEvent<Order>[] = [];

    const fetched = await fixture
      .fetcher({ source: fixture.eventLog(), pipelines: ['e2e'] })
      .run({ budgetMs: 20_000, untilCaughtUp: true });
    expect(fetched.pipelines.e2e?.counts.eventsSent).toBe(EVENT_COUNT);

    let idleRounds = 0;
    while (idleRounds < 4) {
      const batch = await receiveAsLambdaEvent(fixture.sqs, fixture.queue.queueUrl, fixture.queue.queueArn);
      const dead = await receiveAsLambdaEvent(
        fixture.sqs,
        fixture.queue.deadLetterQueueUrl,
        fixture.queue.deadLetterQueueArn,
      );
      if (batch.Records.length > 0) await worker(batch, lambdaContext() as never);
      if (dead.Records.length > 0) {
        const result = await handleDeadLetters<Order>(dead.Records, {
          pipeline: 'e2e',
          store: failures,
          failedHandler: (events) => void handedOver.push(...events),
        });
        const retry = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
        const done = dead.Records.filter((record) => !retry.has(record.messageId));
        if (done.length > 0) {
          await fixture.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: fixture.queue.deadLetterQueueUrl,
              Entries: done.map((record, index) => ({
                Id: String(index),
                ReceiptHandle: record.receiptHandle,
              })),
            }),
          );
        }
      }
      idleRounds = batch.Records.length === 0 && dead.Records.length === 0 ? idleRounds + 1 : 0;
      if (batch.Records.length === 0) await sleep(400);
    }

    const { events: done } = await fixture.eventLog().range(outputs, { limit: 1_000 });
    const doneNumbers = done.map((event) => (event.data as { n: number }).n).sort((a, b) => a - b);
    const expected = Array.from({ length: EVENT_COUNT }, (_, n) => n).filter((n) => !POISON.has(n));
    expect(doneNumbers).toEqual(expected);
    expect(handedOver.map((failure) => failure.event.data.n).sort((a, b) => a - b)).toEqual([...POISON]);
    for (const failure of handedOver) {
      expect(failure).toMatchObject({
        pipeline: 'e2e',
        attempts: 3,
        lastError: { message: `order ${failure.event.data.n} is poison` },
      });
    }
    for (const n of FLAKY) expect(attemptsSeen.get(n)).toBe(2);
    const listed = await failures.listFailures('e2e', { limit: 10 });
    expect(listed.failures.map((record) => record.event.id).sort()).toEqual(
      [...POISON].map((n) => ids[n]).sort(),
    );
  });
});
