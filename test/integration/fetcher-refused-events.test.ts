import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FailedEvent } from '../../lib';
import { handleDeadLetters } from '../../lib/failed/dlq-consumer';
import { FailureStore } from '../../lib/failed/failure-store';
import { eventIdToEpochMs } from '../../lib/time/event-id';
import { timeBucketOf } from '../../lib/time/time-bucket';
import { createQueueWithDeadLetterQueue, sqsClient } from '../support/aws';
import { steppingIdGenerator } from '../support/fixtures';
import { holdSendMessageBatchCalls } from '../support/held-calls';
import { incompressibleText } from '../support/order-events';
import { createPipelineFixture, drainQueue, receivedEventIds } from '../support/pipeline-fixture';
import { receiveAsLambdaEvent } from '../support/worker-fixture';

const HOUR = 3_600_000;
let fixture: Awaited<ReturnType<typeof createPipelineFixture>>;

beforeAll(async () => {
  fixture = await createPipelineFixture();
}, 60_000);
afterAll(() => fixture.drop());

describe('events SQS refuses', () => {
  it.each([false, true])(
    'FIFO %s: data with characters SQS refuses arrives intact; an event over the queue size goes to the failed handler, and the pipeline moves on',
    async (fifo) => {
      const name = `refused-${fifo}`;
      const stream = `${fixture.stream}-${name}`;
      const queue = await createQueueWithDeadLetterQueue(fixture.sqs, { fifo, visibilityTimeoutSeconds: 60 });
      // A queue that takes less than SQS's 1 MiB: the packed messages of 65,000 bytes do not fit.
      await fixture.sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: queue.queueUrl,
          Attributes: { MaximumMessageSize: '16384' },
        }),
      );
      await fixture.store.putPipeline({ name, stream, queueUrl: queue.queueUrl, start: 'earliest' });
      const log = fixture.eventLog({ idGenerator: steppingIdGenerator(Date.now() - HOUR, () => 10) });
      const odd = 'not\uFFFFa character, \uFFFE neither, and \u{1F600} beyond the basic plane';
      const inputs = Array.from({ length: 40 }, (_, n) => ({
        stream,
        type: 'note',
        partitionKey: `key-${n % 2}`,
        data: n === 20 ? { n, text: incompressibleText(20_000) } : { n, text: n % 5 === 0 ? odd : 'plain' },
      }));
      const ids: string[] = [];
      for (let start = 0; start < inputs.length; start += 10)
        ids.push(...(await log.commit(inputs.slice(start, start + 10))));
      const tooLarge = ids[20] as string;

      const summary = await fixture
        .fetcher({ source: fixture.eventLog(), pipelines: [name] })
        .run({ budgetMs: 20_000, untilCaughtUp: true });

      expect(summary.pipelines[name]).toMatchObject({ outcome: 'finished', stopReason: 'caught up' });
      expect(summary.pipelines[name]?.counts.eventsDeadLettered).toBe(1);
      const delivered = await drainQueue(fixture.sqs, queue.queueUrl);
      expect(receivedEventIds(delivered).sort()).toEqual(ids.filter((id) => id !== tooLarge).sort());
      const texts = delivered.flatMap((message) =>
        message.envelope.events.map((event) => (event.data as { text: string }).text),
      );
      expect(texts.filter((text) => text === odd)).toHaveLength(7);

      const failures = new FailureStore({ tableName: fixture.store.tableName, client: fixture.dynamodb });
      const handedOver: FailedEvent[] = [];
      const dead = await receiveAsLambdaEvent(
        fixture.sqs,
        queue.deadLetterQueueUrl,
        queue.deadLetterQueueArn,
      );
      await handleDeadLetters(dead.Records, {
        pipeline: name,
        store: failures,
        failedHandler: (events) => void handedOver.push(...events),
      });
      expect(handedOver.map((failure) => failure.event.id)).toEqual([tooLarge]);
      expect(handedOver[0]?.lastError).toMatchObject({
        name: 'DeliveryError',
        message: expect.stringMatching(/cannot be put on queue .*16384/),
      });
      expect(handedOver[0]?.event.data).toEqual({ n: 20, text: incompressibleText(20_000) });
      const listed = await failures.listFailures(name, { limit: 10 });
      expect(listed.failures.map((record) => record.event.id)).toEqual([tooLarge]);

      const again = await fixture
        .fetcher({ source: fixture.eventLog(), pipelines: [name] })
        .run({ budgetMs: 20_000, untilCaughtUp: true });
      expect(again.pipelines[name]?.counts.eventsRead).toBe(0);
    },
  );

  it('sends one event per message four calls at once: an event over the queue size goes to the failed handler, and every other event arrives once', async () => {
    const name = 'refused-in-flight';
    const stream = `${fixture.stream}-${name}`;
    const queue = await createQueueWithDeadLetterQueue(fixture.sqs, { visibilityTimeoutSeconds: 60 });
    await fixture.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queue.queueUrl,
        Attributes: { MaximumMessageSize: '16384' },
      }),
    );
    await fixture.store.putPipeline({
      name,
      stream,
      queueUrl: queue.queueUrl,
      start: 'earliest',
      maxEventsPerMessage: 1,
    });
    const log = fixture.eventLog({ idGenerator: steppingIdGenerator(Date.now() - HOUR, () => 10) });
    const inputs = Array.from({ length: 60 }, (_, n) => ({
      stream,
      type: 'note',
      data: n === 25 ? { n, text: incompressibleText(20_000) } : { n },
    }));
    const ids = await log.commit(inputs);
    const tooLarge = ids[25] as string;
    // The call holding the large event is answered at once; the calls around it are held, so that they
    // are under way when SQS refuses it.
    const sqs = sqsClient();
    const held = holdSendMessageBatchCalls(sqs, (entries) =>
      entries.some((entry) => (entry.MessageBody ?? '').length > 16_384) ? 0 : 100,
    );

    const summary = await fixture
      .fetcher({ source: fixture.eventLog(), sqs, pipelines: [name] })
      .run({ budgetMs: 20_000, untilCaughtUp: true });

    expect(summary.pipelines[name]).toMatchObject({ outcome: 'finished', stopReason: 'caught up' });
    expect(held.peak()).toBe(4);
    expect(summary.pipelines[name]?.counts.eventsDeadLettered).toBe(1);
    const delivered = receivedEventIds(await drainQueue(fixture.sqs, queue.queueUrl));
    expect(delivered.sort()).toEqual(ids.filter((id) => id !== tooLarge).sort());
    const dead = await drainQueue(fixture.sqs, queue.deadLetterQueueUrl);
    expect(receivedEventIds(dead)).toEqual([tooLarge]);
  });

  it('a segment the log cannot read goes to the failed handler event by event with its reason, and the events around it are delivered', async () => {
    const name = 'corrupt';
    const stream = `${fixture.stream}-${name}`;
    const queue = await createQueueWithDeadLetterQueue(fixture.sqs, { visibilityTimeoutSeconds: 60 });
    await fixture.store.putPipeline({
      name,
      stream,
      queueUrl: queue.queueUrl,
      start: 'earliest',
      pageSize: 10,
    });
    const log = fixture.eventLog({ idGenerator: steppingIdGenerator(Date.now() - HOUR, () => 10) });
    const ids: string[] = [];
    for (let n = 0; n < 30; n += 10)
      ids.push(
        ...(await log.commit(
          Array.from({ length: 10 }, (_, index) => ({ stream, type: 'note', data: { n: n + index } })),
        )),
      );
    // The second commit is one segment, keyed by its last id: its body no longer decompresses.
    const corrupted = ids.slice(10, 20);
    const segmentKey = corrupted.at(-1) as string;
    await fixture.dynamodb.send(
      new PutItemCommand({
        TableName: log.tableName,
        Item: {
          pk: { S: `e#${stream}#${timeBucketOf(eventIdToEpochMs(segmentKey))}#0` },
          sk: { S: segmentKey },
          codec: { S: 'br' },
          events: { B: new TextEncoder().encode('{oops') },
          counts: { M: { note: { N: '10' } } },
        },
      }),
    );

    const summary = await fixture
      .fetcher({ source: fixture.eventLog(), pipelines: [name] })
      .run({ budgetMs: 20_000, untilCaughtUp: true });

    expect(summary.pipelines[name]).toMatchObject({ outcome: 'finished', stopReason: 'caught up' });
    const delivered = receivedEventIds(await drainQueue(fixture.sqs, queue.queueUrl));
    expect(delivered).toEqual(ids.filter((id) => !corrupted.includes(id)));
    const failures = new FailureStore({ tableName: fixture.store.tableName, client: fixture.dynamodb });
    const handedOver: FailedEvent[] = [];
    const dead = await receiveAsLambdaEvent(fixture.sqs, queue.deadLetterQueueUrl, queue.deadLetterQueueArn);
    await handleDeadLetters(dead.Records, {
      pipeline: name,
      store: failures,
      failedHandler: (events) => void handedOver.push(...events),
    });
    expect(handedOver.map((failed) => failed.event.id).sort()).toEqual(corrupted);
    for (const failed of handedOver) {
      expect(failed).toMatchObject({
        event: { data: null },
        lastError: {
          name: 'CorruptEventError',
          message: expect.stringContaining("does not decode with codec 'br'"),
        },
      });
    }
    expect(
      (await failures.listFailures(name, { limit: 20 })).failures.map((record) => record.event.id).sort(),
    ).toEqual(corrupted);
  });
});
