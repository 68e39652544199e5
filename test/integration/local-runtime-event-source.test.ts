import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type LambdaSqsEvent,
  type LambdaSqsRecord,
  SqsEventSourceMapping,
  type SqsEventSourceMappingOptions,
} from '../../lib/local';
import { injectFaults } from '../../lib/testing/faults';
import { createQueueWithDeadLetterQueue, sqsClient } from '../support/aws';
import { sleep } from '../support/fixtures';
import { waitFor } from '../support/wait-for';

const sqs = sqsClient();

/** Fails the first call it is asked about, and none after. */
function firstCallOnly(): () => number {
  let calls = 0;
  return () => (calls++ === 0 ? 0 : 1);
}
const mappings: SqsEventSourceMapping[] = [];
afterEach(async () => {
  await Promise.all(mappings.splice(0).map((mapping) => mapping.stop()));
});

async function queue(visibilityTimeoutSeconds = 1): Promise<string> {
  const created = await createQueueWithDeadLetterQueue(sqs, {
    visibilityTimeoutSeconds,
    maxReceiveCount: 10,
    prefix: 'esm',
  });
  return created.queueUrl;
}

async function send(client: SQSClient, queueUrl: string, bodies: readonly string[]): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies
          .slice(start, start + 10)
          .map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
  }
}

async function messagesLeft(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

function mapping(options: Omit<SqsEventSourceMappingOptions, 'sqs'>): SqsEventSourceMapping {
  const created = new SqsEventSourceMapping({ sqs, pollWaitTimeSeconds: 1, onError: () => {}, ...options });
  mappings.push(created);
  return created;
}

/** Every delivery a handler saw: body and receive count. */
function recorder() {
  const deliveries: { body: string; receiveCount: number; batch: number }[] = [];
  let batches = 0;
  return {
    deliveries,
    record(event: LambdaSqsEvent): LambdaSqsRecord[] {
      batches += 1;
      for (const record of event.Records)
        deliveries.push({
          body: record.body,
          receiveCount: Number(record.attributes.ApproximateReceiveCount),
          batch: batches,
        });
      return event.Records;
    },
    bodiesSeen: (receiveCount: number) =>
      deliveries
        .filter((delivery) => delivery.receiveCount === receiveCount)
        .map((delivery) => delivery.body)
        .sort(),
  };
}

describe('SqsEventSourceMapping against the SQS emulator', () => {
  it('deletes every message when the handler returns an empty batchItemFailures list', async () => {
    // Prepare
    const queueUrl = await queue();
    const seen = recorder();
    const source = mapping({
      queueUrl,
      handler: (event) => {
        seen.record(event);
        return { batchItemFailures: [] };
      },
    });
    await send(sqs, queueUrl, ['a', 'b', 'c']);

    // Act
    await source.start();
    await waitFor('three deletes', () => source.stats().deleted === 3);

    // Assess
    expect(seen.bodiesSeen(1)).toEqual(['a', 'b', 'c']);
    await sleep(1_500);
    expect(seen.deliveries).toHaveLength(3);
    expect(await messagesLeft(queueUrl)).toBe(0);
    expect(source.stats()).toMatchObject({ failedBatches: 0, failedItems: 0, deleted: 3 });
  });

  it('keeps the listed items, which come back after their visibility timeout, and deletes the rest', async () => {
    // Prepare
    const queueUrl = await queue(1);
    const seen = recorder();
    const source = mapping({
      queueUrl,
      handler: (event) => {
        const records = seen.record(event);
        const failed = records.filter(
          (record) => record.body === 'b' && record.attributes.ApproximateReceiveCount === '1',
        );
        return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) };
      },
    });
    await send(sqs, queueUrl, ['a', 'b', 'c']);

    // Act
    await source.start();
    await waitFor('three deletes', () => source.stats().deleted === 3, { timeoutMs: 15_000 });

    // Assess
    expect(seen.bodiesSeen(1)).toEqual(['a', 'b', 'c']);
    expect(seen.bodiesSeen(2)).toEqual(['b']);
    expect(source.stats()).toMatchObject({ failedItems: 1, failedBatches: 0 });
  });

  it('fails the whole batch when an itemIdentifier is not in the batch', async () => {
    // Prepare
    const queueUrl = await queue(1);
    const seen = recorder();
    const source = mapping({
      queueUrl,
      pollers: 1,
      handler: (event) => {
        const records = seen.record(event);
        const first = records.every((record) => record.attributes.ApproximateReceiveCount === '1');
        return { batchItemFailures: first ? [{ itemIdentifier: 'not-a-message-of-this-batch' }] : [] };
      },
    });
    await send(sqs, queueUrl, ['a', 'b']);

    // Act
    await source.start();
    await waitFor('two deletes', () => source.stats().deleted === 2, { timeoutMs: 15_000 });

    // Assess: nothing of the first batch was deleted, so both came back.
    expect(seen.bodiesSeen(1)).toEqual(['a', 'b']);
    expect(seen.bodiesSeen(2)).toEqual(['a', 'b']);
    expect(source.stats().failedBatches).toBeGreaterThanOrEqual(1);
  });

  it('fails the whole batch when the handler throws', async () => {
    // Prepare
    const queueUrl = await queue(1);
    const seen = recorder();
    const errors: unknown[] = [];
    const source = mapping({
      queueUrl,
      onError: (error) => errors.push(error),
      handler: (event) => {
        const records = seen.record(event);
        if (records.some((record) => record.attributes.ApproximateReceiveCount === '1'))
          throw new Error('downstream unavailable');
      },
    });
    await send(sqs, queueUrl, ['a', 'b']);

    // Act
    await source.start();
    await waitFor('two deletes', () => source.stats().deleted === 2, { timeoutMs: 15_000 });

    // Assess
    expect(seen.bodiesSeen(1)).toEqual(['a', 'b']);
    expect(seen.bodiesSeen(2)).toEqual(['a', 'b']);
    expect(errors.map((error) => (error as Error).message)).toContain('downstream unavailable');
  });

  it('gathers messages sent over time into one invocation of batchSize within the batching window', async () => {
    // Prepare
    const queueUrl = await queue(30);
    const batchSizes: number[] = [];
    const source = mapping({
      queueUrl,
      pollers: 1,
      batchSize: 25,
      maximumBatchingWindowSeconds: 5,
      handler: (event) => void batchSizes.push(event.Records.length),
    });
    await source.start();

    // Act: three sends, spread out, all within the window.
    const bodies = Array.from({ length: 25 }, (_, n) => `m${n}`);
    await send(sqs, queueUrl, bodies.slice(0, 5));
    await sleep(300);
    await send(sqs, queueUrl, bodies.slice(5, 15));
    await sleep(300);
    await send(sqs, queueUrl, bodies.slice(15));
    await waitFor('25 deletes', () => source.stats().deleted === 25);

    // Assess
    expect(batchSizes).toEqual([25]);
  });

  it('runs no more than maximumConcurrency invocations at once', async () => {
    // Prepare
    const queueUrl = await queue(30);
    let active = 0;
    let peak = 0;
    const source = mapping({
      queueUrl,
      batchSize: 1,
      maximumConcurrency: 2,
      pollers: 4,
      handler: async () => {
        active += 1;
        peak = Math.max(peak, active);
        await waitFor('a second invocation', () => active >= 2 || undefined, { timeoutMs: 300 }).catch(
          () => undefined,
        );
        active -= 1;
      },
    });
    await send(
      sqs,
      queueUrl,
      Array.from({ length: 12 }, (_, n) => `m${n}`),
    );

    // Act
    await source.start();
    await waitFor('12 deletes', () => source.stats().deleted === 12);

    // Assess
    expect(peak).toBe(2);
    expect(source.stats().peakConcurrency).toBe(2);
    expect(source.stats().invocations).toBe(12);
  });

  it('fails at construction when settings break the rules of AWS, naming each value', () => {
    const fifoUrl = 'http://127.0.0.1:1/000000000000/orders.fifo';
    const standardUrl = 'http://127.0.0.1:1/000000000000/orders';
    const handler = () => undefined;
    expect(() => new SqsEventSourceMapping({ sqs, queueUrl: fifoUrl, handler, batchSize: 25 })).toThrow(
      'batchSize must be between 1 and 10 for a FIFO queue (given 25)',
    );
    expect(
      () => new SqsEventSourceMapping({ sqs, queueUrl: fifoUrl, handler, maximumBatchingWindowSeconds: 5 }),
    ).toThrow('maximumBatchingWindowSeconds is not supported on a FIFO queue (given 5)');
    expect(() => new SqsEventSourceMapping({ sqs, queueUrl: standardUrl, handler, batchSize: 100 })).toThrow(
      'maximumBatchingWindowSeconds must be at least 1 when batchSize is over 10 (given 0 with batchSize 100)',
    );
    expect(
      () => new SqsEventSourceMapping({ sqs, queueUrl: standardUrl, handler, batchSize: 10_001 }),
    ).toThrow('batchSize must be between 1 and 10000 (given 10001)');
    expect(
      () => new SqsEventSourceMapping({ sqs, queueUrl: standardUrl, handler, maximumConcurrency: 1 }),
    ).toThrow('maximumConcurrency must be between 2 and 1000 (given 1)');
    expect(
      () =>
        new SqsEventSourceMapping({ sqs, queueUrl: standardUrl, handler, maximumBatchingWindowSeconds: 301 }),
    ).toThrow('maximumBatchingWindowSeconds must be between 0 and 300 (given 301)');
  });

  it('waits on stop() for the invocation in flight, and deletes its messages', async () => {
    // Prepare
    const queueUrl = await queue(30);
    let started = false;
    let finished = false;
    const source = mapping({
      queueUrl,
      handler: async () => {
        started = true;
        await sleep(700);
        finished = true;
      },
    });
    await send(sqs, queueUrl, ['slow']);
    await source.start();
    await waitFor('the invocation to start', () => started);

    // Act
    await source.stop();

    // Assess
    expect(finished).toBe(true);
    expect(source.stats()).toMatchObject({ invocations: 1, deleted: 1, inFlight: 0 });
    expect(await messagesLeft(queueUrl)).toBe(0);
  });

  it('hands each record every system attribute SQS keeps, as Lambda does', async () => {
    // Prepare
    const queueUrl = await queue(30);
    const records: LambdaSqsRecord[] = [];
    const source = mapping({ queueUrl, handler: (event) => void records.push(...event.Records) });
    await send(sqs, queueUrl, ['a']);

    // Act
    await source.start();
    await waitFor('one delete', () => source.stats().deleted === 1);

    // Assess
    expect(Object.keys(records[0]?.attributes ?? {})).toEqual(
      expect.arrayContaining([
        'ApproximateReceiveCount',
        'SentTimestamp',
        'ApproximateFirstReceiveTimestamp',
      ]),
    );
  });

  it('retries a delete that SQS throttled, so the handled messages are not delivered again', async () => {
    // Prepare
    const queueUrl = await queue(1);
    const client = sqsClient();
    const faults = injectFaults(client, {
      rate: 0.5,
      seed: 0,
      random: firstCallOnly(),
      kinds: ['throttle'],
      operations: ['DeleteMessageBatchCommand'],
      placement: 'per-call',
    });
    const seen = recorder();
    const errors: unknown[] = [];
    const source = new SqsEventSourceMapping({
      sqs: client,
      queueUrl,
      pollWaitTimeSeconds: 1,
      onError: (error) => errors.push(error),
      handler: (event) => void seen.record(event),
    });
    mappings.push(source);
    await send(sqs, queueUrl, ['a', 'b']);

    // Act
    await source.start();
    await waitFor('two deletes', () => source.stats().deleted === 2);

    // Assess
    await sleep(1_500);
    expect(faults.counts().injected).toBe(1);
    expect(errors).toEqual([]);
    expect(seen.deliveries).toHaveLength(2);
    expect(await messagesLeft(queueUrl)).toBe(0);
  });
});
