import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker, NonRetryableError, type WorkerOptions } from '../../lib';
import { handleDeadLetters } from '../../lib/failed/dlq-consumer';
import { FailureStore } from '../../lib/failed/failure-store';
import type { SqsRecordLike } from '../../lib/failed/records';
import { redriveDeadLetters } from '../../lib/failed/redrive';
import type { FailedEvent } from '../../lib/failed/types';
import { parseEnvelope } from '../../lib/messages/envelope';
import {
  createQueueWithDeadLetterQueue,
  createStreamTable,
  dynamodbClient,
  sqsClient,
  uniqueName,
} from '../support/aws';
import { drainQueue } from '../support/pipeline-fixture';
import { waitFor } from '../support/wait-for';
import {
  envelopeEvents,
  lambdaContext,
  receiveAsLambdaEvent,
  sendEnvelopes,
} from '../support/worker-fixture';

type Order = { n: number };
const dynamodb = dynamodbClient();
const sqs = sqsClient();
let state: Awaited<ReturnType<typeof createStreamTable>>;
let failures: FailureStore;

beforeAll(async () => {
  state = await createStreamTable(dynamodb, 'state');
  failures = new FailureStore({ tableName: state.name, client: dynamodb });
});
afterAll(() => state.drop());

/**
 * A pipeline's queue and DLQ, and a worker at its defaults whose handler fails every event whose `n`
 * is in `broken` with a `NonRetryableError` (so it goes to the DLQ at its first failure), and counts
 * the effects of the others.
 */
async function pipelineWithWorker(options: { maxReceiveCount?: number } = {}) {
  const queue = await createQueueWithDeadLetterQueue(sqs, {
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: options.maxReceiveCount ?? 50,
  });
  const pipeline = uniqueName('billing');
  const broken = new Set<number>();
  const effects = new Map<number, number>();
  const worker = createWorker<Order>({
    pipeline,
    stateTable: state.name,
    queueUrl: queue.queueUrl,
    deadLetterQueueUrl: queue.deadLetterQueueUrl,
    sqs,
    dynamodb,
    backoff: { baseDelaySeconds: 1, maxDelaySeconds: 1, jitter: false },
    handle: async (event) => {
      if (broken.has(event.data.n)) throw new NonRetryableError(`order ${event.data.n} is broken`);
      effects.set(event.data.n, (effects.get(event.data.n) ?? 0) + 1);
    },
  } as WorkerOptions<Order>);
  /** Runs the worker on what waits in the queue, a batch at a time, until it is empty. */
  const drainThroughWorker = async () => {
    for (;;) {
      const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
      if (batch.Records.length === 0) return;
      await worker(batch, lambdaContext() as never);
    }
  };
  return { queue, pipeline, broken, effects, worker, drainThroughWorker };
}

/** Everything in a queue, as records the failed-event function would get. */
async function deadLetterRecords(queueUrl: string): Promise<SqsRecordLike[]> {
  return (await drainQueue(sqs, queueUrl)).map((message, index) => ({
    messageId: `dlq-${index}-${message.envelope.events[0]?.id}`,
    body: message.body,
  }));
}

describe('a redrive is a fresh start', () => {
  it('runs the events it moves again, once, and a redelivery of the redriven message is still skipped', async () => {
    // Prepare: three messages of one event each, sent after a seek (epoch 2), fail for good.
    const { queue, broken, effects, worker, drainThroughWorker } = await pipelineWithWorker();
    const events = envelopeEvents([{ n: 1 }, { n: 2 }, { n: 3 }]);
    for (const event of events) broken.add((event.data as Order).n);
    await sendEnvelopes(
      sqs,
      queue.queueUrl,
      events.map((event) => [event]),
      { epoch: 2 },
    );
    await drainThroughWorker();
    const dead = await waitFor('three dead messages', async () => {
      const output = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 0,
        }),
      );
      return (output.Messages?.length ?? 0) >= 3 ? output.Messages : undefined;
    });
    broken.clear();

    // Act
    const result = await redriveDeadLetters({
      sqs,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      queueUrl: queue.queueUrl,
      waitTimeSeconds: 0,
      maxMessagesPerSecond: 100,
    });
    const redriven = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    const first = await worker.processEvent(redriven, lambdaContext());
    const again = await worker.processEvent(redriven, lambdaContext());

    // Assess
    expect(dead.map((message) => parseEnvelope(message.Body as string).epoch)).toEqual([2, 2, 2]);
    expect(result).toMatchObject({ examined: 3, moved: 3, kept: 0 });
    expect(redriven.Records).toHaveLength(3);
    for (const record of redriven.Records)
      expect(parseEnvelope(record.body).redrive).toEqual(expect.any(String));
    expect(first.stats).toMatchObject({ succeeded: 3, duplicatesSkipped: 0 });
    expect(again.stats).toMatchObject({ succeeded: 0, duplicatesSkipped: 3 });
    expect([...effects.entries()].sort()).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
  });

  it('hands an event that fails again after a redrive over to the failed handler again', async () => {
    // Prepare: an event fails for good and is handed over.
    const { queue, pipeline, broken, drainThroughWorker } = await pipelineWithWorker();
    const [event] = envelopeEvents([{ n: 7 }]);
    broken.add(7);
    await sendEnvelopes(sqs, queue.queueUrl, [[event!]], { pipeline });
    await drainThroughWorker();
    const handedOver: FailedEvent[] = [];
    const failedHandler = (list: readonly FailedEvent[]) => void handedOver.push(...list);
    const firstLife = await handleDeadLetters(await deadLetterRecords(queue.deadLetterQueueUrl), {
      pipeline,
      store: failures,
      failedHandler,
    });

    // Act: it is redriven (as the DLQ message it was), and fails again.
    await sendEnvelopes(sqs, queue.deadLetterQueueUrl, [[{ ...event!, attempts: 1 }]], { pipeline });
    await redriveDeadLetters({
      sqs,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      queueUrl: queue.queueUrl,
      waitTimeSeconds: 0,
    });
    await drainThroughWorker();
    const secondLife = await handleDeadLetters(await deadLetterRecords(queue.deadLetterQueueUrl), {
      pipeline,
      store: failures,
      failedHandler,
    });

    // Assess
    expect(firstLife).toMatchObject({ handled: 1 });
    expect(secondLife).toMatchObject({ handled: 1, skippedAsDuplicates: 0 });
    expect(handedOver.map((failure) => failure.event.id)).toEqual([event!.id, event!.id]);
    expect(handedOver[0]?.redrive).toBeUndefined();
    expect(handedOver[1]?.redrive).toEqual(expect.any(String));
    const record = await failures.getFailure(pipeline, event!.id, {
      redrive: handedOver[1]?.redrive as string,
    });
    expect(record).toMatchObject({ status: 'handled', redrive: handedOver[1]?.redrive });
  });

  it('moves each dead message once in a run, even when the events it moved fail again during the run', async () => {
    // Prepare: 20 dead messages; while the redrive runs, the worker fails what it moved back to the DLQ.
    const { queue, pipeline, broken, drainThroughWorker } = await pipelineWithWorker();
    const events = envelopeEvents(Array.from({ length: 20 }, (_, n) => ({ n })));
    for (let n = 0; n < 20; n += 1) broken.add(n);
    await sendEnvelopes(
      sqs,
      queue.deadLetterQueueUrl,
      events.map((event) => [{ ...event, attempts: 1 }]),
      { pipeline },
    );

    // Act: the rate (10 per second) makes the run wait between its two sends; the worker runs then.
    const result = await redriveDeadLetters({
      sqs,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      queueUrl: queue.queueUrl,
      waitTimeSeconds: 0,
      sleep: () => drainThroughWorker(),
    });
    await drainThroughWorker();

    // Assess
    expect(result).toMatchObject({ examined: 20, moved: 20, kept: 0, messagesDeleted: 20 });
    const left = await drainQueue(sqs, queue.deadLetterQueueUrl);
    expect(left.flatMap((message) => message.envelope.events.map((event) => event.id)).sort()).toEqual(
      events.map((event) => event.id).sort(),
    );
  });
});

describe('a message SQS moved to the DLQ after it partly succeeded', () => {
  it('hands over only the events that did not succeed', async () => {
    // Prepare: one message of two events; the first succeeds, the second fails (retryably), and SQS
    // moves the message when it comes back past the queue's maxReceiveCount.
    const { queue, pipeline } = await pipelineWithWorker({ maxReceiveCount: 1 });
    const [ok, bad] = envelopeEvents([{ n: 1 }, { n: 2 }]);
    await sendEnvelopes(sqs, queue.queueUrl, [[ok!, { ...bad!, data: { n: 2, retryable: true } }]], {
      pipeline,
    });
    const retryable = createWorker<Order & { retryable?: boolean }>({
      pipeline,
      stateTable: state.name,
      queueUrl: queue.queueUrl,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      sqs,
      dynamodb,
      backoff: { baseDelaySeconds: 1, maxDelaySeconds: 1, jitter: false },
      handle: async (event) => {
        if (event.data.retryable) throw new Error('partner API timed out');
      },
    } as WorkerOptions<Order & { retryable?: boolean }>);
    const batch = await receiveAsLambdaEvent(sqs, queue.queueUrl, queue.queueArn);
    const outcome = await retryable.processEvent(batch, lambdaContext());
    const moved = await waitFor('the message in the DLQ', async () => {
      await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.queueUrl, WaitTimeSeconds: 0 }));
      const output = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.deadLetterQueueUrl,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );
      return output.Messages?.[0];
    });
    const handedOver: FailedEvent[] = [];

    // Act
    const result = await handleDeadLetters(
      [
        {
          messageId: moved.MessageId as string,
          body: moved.Body as string,
          attributes: {
            ApproximateReceiveCount: moved.Attributes?.ApproximateReceiveCount as string,
            SentTimestamp: moved.Attributes?.SentTimestamp as string,
          },
        },
      ],
      { pipeline, store: failures, failedHandler: (list) => void handedOver.push(...list) },
    );

    // Assess
    expect(outcome.stats).toMatchObject({ succeeded: 1, failed: 1 });
    expect(result).toMatchObject({ batchItemFailures: [], handled: 1, completedBefore: 1 });
    expect(handedOver.map((failure) => failure.event.id)).toEqual([bad!.id]);
    expect(await failures.getFailure(pipeline, ok!.id)).toBeUndefined();
  });
});
