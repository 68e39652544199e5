import { ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConsumerError,
  PullConsumer,
  type PullConsumerOptions,
  type ReservedEvent,
} from '../../lib/consumer';
import { ValidationError } from '../../lib/errors';
import type { FailedEvent } from '../../lib/failed/types';
import { type EnvelopeEvent, envelopeBody } from '../../lib/messages/envelope';
import { EventIdGenerator, eventIdToTime } from '../../lib/time/event-id';
import { createQueueWithDeadLetterQueue, sqsClient, uniqueName } from '../support/aws';
import { drainQueue } from '../support/pipeline-fixture';
import { waitFor } from '../support/wait-for';

const sqs = sqsClient();
const ids = new EventIdGenerator();
const PIPELINE = 'billing';
const STREAM = 'orders';

/** `count` events of type `order.placed` whose data names their order. */
function events(count: number, extra: Partial<EnvelopeEvent> = {}): EnvelopeEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    id: ids.next(),
    type: 'order.placed',
    data: { orderId: `o-${index}`, total: 10 * index },
    ...extra,
  }));
}

/** The body of a message carrying these events, as the fetcher packs them. */
function bodyOf(packed: readonly EnvelopeEvent[]): string {
  return envelopeBody({ pipeline: PIPELINE, stream: STREAM }, packed);
}

/** Sends one message per body. */
async function send(queueUrl: string, bodies: readonly string[]): Promise<void> {
  const output = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: bodies.map((body, index) => ({ Id: String(index), MessageBody: body })),
    }),
  );
  expect(output.Failed ?? []).toEqual([]);
}

/** A logger that keeps what it is told, so tests stay quiet and can look. */
function recordingLogger() {
  const lines: { level: string; message: string; extra: unknown[] }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: unknown[]) =>
      void lines.push({ level, message, extra });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

const consumers: PullConsumer[] = [];
afterEach(async () => {
  await Promise.allSettled(consumers.splice(0).map((consumer) => consumer.stop()));
});

/** A consumer with short timings, stopped after the test. */
function consumerOf(
  queue: { queueUrl: string; deadLetterQueueUrl?: string },
  options: Partial<PullConsumerOptions> = {},
): PullConsumer {
  const consumer = PullConsumer.create({
    sqs,
    queueUrl: queue.queueUrl,
    ...(queue.deadLetterQueueUrl === undefined ? {} : { deadLetterQueueUrl: queue.deadLetterQueueUrl }),
    visibilityTimeoutSeconds: 5,
    heartbeatIntervalSeconds: 2,
    waitTimeSeconds: 1,
    backoff: { baseDelaySeconds: 1, maxDelaySeconds: 1, jitter: false },
    logger: recordingLogger().logger,
    ...options,
  });
  consumers.push(consumer);
  return consumer;
}

/** Reserves until `count` events came (or fails after the wait-for timeout). */
async function reserveAtLeast(consumer: PullConsumer, count: number): Promise<ReservedEvent[]> {
  const reserved: ReservedEvent[] = [];
  await waitFor(`${count} reserved event(s)`, async () => {
    reserved.push(...(await consumer.reserve(count - reserved.length)));
    return reserved.length >= count;
  });
  return reserved;
}

/** Messages visible right now, received with a visibility of 0 so that they stay visible. */
async function visibleNow(queueUrl: string): Promise<number> {
  const output = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: 0,
    }),
  );
  return output.Messages?.length ?? 0;
}

describe('PullConsumer', () => {
  it('hands out every event once with its data and deletes the messages once all are acknowledged', async () => {
    // Prepare
    const queue = await createQueueWithDeadLetterQueue(sqs);
    const packed = [events(3), events(2), events(1)];
    await send(queue.queueUrl, packed.map(bodyOf));
    const consumer = consumerOf(queue);

    // Act
    const reserved = await reserveAtLeast(consumer, 6);
    await consumer.acknowledge(reserved.map((event) => event.id));

    // Assess
    const sent = packed.flat();
    expect(reserved.map((event) => event.id).sort()).toEqual(sent.map((event) => event.id).sort());
    for (const event of sent) {
      expect(reserved.find((candidate) => candidate.id === event.id)).toEqual({
        id: event.id,
        pipeline: PIPELINE,
        stream: STREAM,
        type: 'order.placed',
        time: eventIdToTime(event.id),
        data: event.data,
        attempts: 1,
      });
    }
    expect(consumer.stats()).toMatchObject({
      messagesReceived: 3,
      eventsReserved: 6,
      eventsAcknowledged: 6,
      eventsInFlight: 0,
      messagesInFlight: 0,
    });
    expect(await drainQueue(sqs, queue.queueUrl)).toEqual([]);
    expect(await drainQueue(sqs, queue.deadLetterQueueUrl)).toEqual([]);
  });

  it('re-sends only the failed event of a packed message, after its delay, with attempts 2 and its last error', async () => {
    // Prepare
    const queue = await createQueueWithDeadLetterQueue(sqs);
    const packed = events(3);
    await send(queue.queueUrl, [bodyOf(packed)]);
    const consumer = consumerOf(queue);
    const [first, failing, last] = packed.map((event) => event.id) as [string, string, string];
    await reserveAtLeast(consumer, 3);

    // Act
    await consumer.acknowledge([first]);
    await consumer.fail([failing], { reason: new TypeError('card declined') });
    await consumer.acknowledge([last]);
    const settledAt = Date.now();
    const visibleAtOnce = await visibleNow(queue.queueUrl);
    const again = await reserveAtLeast(consumer, 1);
    const waitedMs = Date.now() - settledAt;

    // Assess
    expect(visibleAtOnce).toBe(0);
    expect(waitedMs).toBeGreaterThanOrEqual(800);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({
      id: failing,
      data: packed[1]?.data,
      attempts: 2,
      lastError: { name: 'TypeError', message: 'card declined' },
    });
    await consumer.acknowledge([failing]);
    expect(await drainQueue(sqs, queue.queueUrl)).toEqual([]);
    expect(consumer.stats()).toMatchObject({ eventsRetried: 1, eventsAcknowledged: 3, messagesReceived: 2 });
  });

  it('hides a wholly failed message for the backoff delay, then delivers it again whole', async () => {
    // Prepare
    const queue = await createQueueWithDeadLetterQueue(sqs);
    const packed = events(2);
    await send(queue.queueUrl, [bodyOf(packed)]);
    const consumer = consumerOf(queue, { backoff: { baseDelaySeconds: 2, jitter: false } });
    const reserved = await reserveAtLeast(consumer, 2);

    // Act
    await consumer.fail(
      reserved.map((event) => event.id),
      { reason: 'downstream unavailable' },
    );
    const failedAt = Date.now();
    const visibleAtOnce = await visibleNow(queue.queueUrl);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const visibleAfterOneSecond = await visibleNow(queue.queueUrl);
    const again = await reserveAtLeast(consumer, 2);
    const waitedMs = Date.now() - failedAt;

    // Assess
    expect(visibleAtOnce).toBe(0);
    expect(visibleAfterOneSecond).toBe(0);
    expect(waitedMs).toBeGreaterThanOrEqual(1_800);
    expect(again.map((event) => [event.id, event.attempts])).toEqual(packed.map((event) => [event.id, 2]));
    await consumer.acknowledge(again.map((event) => event.id));
    expect(await drainQueue(sqs, queue.queueUrl)).toEqual([]);
  });

  it('uses retryAfterSeconds instead of the backoff delay', async () => {
    // Prepare
    const queue = await createQueueWithDeadLetterQueue(sqs);
    await send(queue.queueUrl, [bodyOf(events(1))]);
    const consumer = consumerOf(queue, { backoff: { baseDelaySeconds: 600, maxDelaySeconds: 900 } });
    const [event] = await reserveAtLeast(consumer, 1);

    // Act
    await consumer.fail([event?.id as string], { retryAfterSeconds: 0 });
    const again = await consumer.reserve(1);

    // Assess
    expect(again.map((reserved) => [reserved.id, reserved.attempts])).toEqual([[event?.id, 2]]);
  });

  it('keeps renewing the visibility of reserved messages, so slow work is not delivered to another consumer', async () => {
    // Prepare
    const queue = await createQueueWithDeadLetterQueue(sqs);
    await send(queue.queueUrl, [bodyOf(events(2))]);
    const timings = { visibilityTimeoutSeconds: 2, heartbeatIntervalSeconds: 1 };
    const worker = consumerOf(queue, timings);
    const other = consumerOf(queue, timings);
    const reserved = await reserveAtLeast(worker, 2);

    // Act: five seconds of work, while the other consumer keeps asking.
    const seenByOther: ReservedEvent[] = [];
    const workEnds = Date.now() + 5_000;
    while (Date.now() < workEnds) seenByOther.push(...(await other.reserve(10)));
    await worker.acknowledge(reserved.map((event) => event.id));

    // Assess
    expect(seenByOther).toEqual([]);
    expect(worker.stats().heartbeatFailures).toBe(0);
    expect(await drainQueue(sqs, queue.queueUrl)).toEqual([]);
  });

  it('moves an event to the dead-letter queue after maxRedeliveryCount failed attempts and calls onFinallyFailed once', async () => {
    // Prepare
    const queue = await createQueueWithDeadLetterQueue(sqs, { maxReceiveCount: 10 });
    const [poison] = events(1) as [EnvelopeEvent];
    await send(queue.queueUrl, [bodyOf([poison])]);
    const calls: (readonly FailedEvent[])[] = [];
    const consumer = consumerOf(queue, {
      maxRedeliveryCount: 3,
      onFinallyFailed: (failures) => void calls.push(failures),
      now: () => 1_700_000_000_000,
    });

    // Act
    const attempts: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const [event] = await reserveAtLeast(consumer, 1);
      attempts.push(event?.attempts ?? 0);
      await consumer.fail([poison.id], { reason: new Error(`attempt ${attempt} failed`) });
    }

    // Assess
    expect(attempts).toEqual([1, 2, 3]);
    const lastError = { name: 'Error', message: 'attempt 3 failed', at: 1_700_000_000_000 };
    expect(calls).toEqual([
      [
        {
          pipeline: PIPELINE,
          event: {
            id: poison.id,
            stream: STREAM,
            type: poison.type,
            time: eventIdToTime(poison.id),
            data: poison.data,
          },
          attempts: 3,
          lastError,
          failedAt: 1_700_000_000_000,
        },
      ],
    ]);
    const deadLetters = await drainQueue(sqs, queue.deadLetterQueueUrl);
    expect(deadLetters.map((message) => message.envelope)).toEqual([
      {
        sluice: 1,
        pipeline: PIPELINE,
        stream: STREAM,
        events: [{ ...poison, attempts: 3, lastError }],
      },
    ]);
    expect(await drainQueue(sqs, queue.queueUrl)).toEqual([]);
    expect(consumer.stats()).toMatchObject({ eventsRetried: 2, eventsFinallyFailed: 1, eventsInFlight: 0 });
  });

  it('sends only the finally failed event of a packed message to the dead-letter queue, and re-sends the rest', async () => {
    // Prepare
    const queue = await createQueueWithDeadLetterQueue(sqs, { maxReceiveCount: 10 });
    const [spent, fresh, done] = [...events(1, { attempts: 2 }), ...events(2)] as [
      EnvelopeEvent,
      EnvelopeEvent,
      EnvelopeEvent,
    ];
    await send(queue.queueUrl, [bodyOf([spent, fresh, done])]);
    const calls: (readonly FailedEvent[])[] = [];
    const consumer = consumerOf(queue, {
      maxRedeliveryCount: 3,
      onFinallyFailed: (failures) => void calls.push(failures),
    });
    const reserved = await reserveAtLeast(consumer, 3);

    // Act
    await consumer.fail([spent.id, fresh.id], { reason: 'boom' });
    await consumer.acknowledge([done.id]);
    const again = await reserveAtLeast(consumer, 1);

    // Assess
    expect(reserved.map((event) => event.attempts)).toEqual([3, 1, 1]);
    expect(calls.map((failures) => failures.map((failure) => [failure.event.id, failure.attempts]))).toEqual([
      [[spent.id, 3]],
    ]);
    expect(again.map((event) => [event.id, event.attempts, event.lastError?.message])).toEqual([
      [fresh.id, 2, 'boom'],
    ]);
    const deadLetters = await drainQueue(sqs, queue.deadLetterQueueUrl);
    expect(deadLetters.flatMap((message) => message.envelope.events.map((event) => event.id))).toEqual([
      spent.id,
    ]);
  });

  it('moves a malformed message to the dead-letter queue and hands out the other events', async () => {
    // Prepare
    const queue = await createQueueWithDeadLetterQueue(sqs);
    const good = events(2);
    const notJson = 'this is not json';
    const wrongVersion = JSON.stringify({ sluice: 99, pipeline: PIPELINE, stream: STREAM, events: [] });
    await send(queue.queueUrl, [notJson, bodyOf(good), wrongVersion]);
    const { lines, logger } = recordingLogger();
    const consumer = consumerOf(queue, { logger });

    // Act
    const reserved = await reserveAtLeast(consumer, 2);
    await consumer.acknowledge(reserved.map((event) => event.id));
    const reservedLater: ReservedEvent[] = [];
    await waitFor('both malformed messages received', async () => {
      reservedLater.push(...(await consumer.reserve(10)));
      return consumer.stats().malformedMessages >= 2;
    });

    // Assess
    expect(reserved.map((event) => event.id).sort()).toEqual(good.map((event) => event.id).sort());
    expect(reservedLater).toEqual([]);
    const deadLetters = await drainDeadLetterBodies(queue.deadLetterQueueUrl, 2);
    expect(deadLetters.sort()).toEqual([notJson, wrongVersion].sort());
    expect(consumer.stats()).toMatchObject({ malformedMessages: 2, eventsReserved: 2, messagesReceived: 3 });
    const warnings = lines.filter(
      (line) => line.message === 'malformed message moved to the dead-letter queue',
    );
    expect(warnings).toHaveLength(2);
    expect(JSON.stringify(warnings)).toContain('is not a Sluice message');
    expect(lines.map((line) => line.message)).toContain(
      "the queue's redrive maxReceiveCount (3) is below maxRedeliveryCount (5): SQS will move a message that keeps failing before the consumer gives up on it, without its last error and without calling onFinallyFailed",
    );
    expect(await drainQueue(sqs, queue.queueUrl)).toEqual([]);
  });

  it('releases unsettled events on stop() so another consumer gets them at once, and refuses reserve() after', async () => {
    // Prepare
    const queue = await createQueueWithDeadLetterQueue(sqs, { visibilityTimeoutSeconds: 30 });
    const packed = [events(2), events(1)];
    await send(queue.queueUrl, packed.map(bodyOf));
    const first = consumerOf(queue, { visibilityTimeoutSeconds: 30, heartbeatIntervalSeconds: 10 });
    const reserved = await reserveAtLeast(first, 3);
    const acknowledged = packed[0]?.[0]?.id as string;
    await first.acknowledge([acknowledged]);

    // Act
    const result = await first.stop();
    const startedAt = Date.now();
    const second = consumerOf(queue);
    const taken = await reserveAtLeast(second, 3);

    // Assess
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect([...result.releasedEventIds].sort()).toEqual(
      reserved
        .map((event) => event.id)
        .filter((id) => id !== acknowledged)
        .sort(),
    );
    expect(result.releasedMessageIds).toHaveLength(2);
    // A message comes back whole, with the event acknowledged before the stop.
    expect(taken.map((event) => event.id).sort()).toEqual(reserved.map((event) => event.id).sort());
    expect(taken.every((event) => event.attempts === 2)).toBe(true);
    await expect(first.reserve(1)).rejects.toMatchObject({
      constructor: ConsumerError,
      code: 'consumer-stopped',
    });
    await expect(first.reserve(1)).rejects.toThrow(/consumer of queue .* is stopped/);
    await expect(first.acknowledge([taken[0]?.id as string])).rejects.toThrow(/was released by stop\(\)/);
    expect(first.isStopped).toBe(true);
    expect(first.stats()).toMatchObject({ eventsReleased: 2, eventsInFlight: 0, messagesInFlight: 0 });
  });

  it('waits on stop({ drain: true }) for reserved events to be settled, and releases those left at the timeout', async () => {
    // Prepare
    const queue = await createQueueWithDeadLetterQueue(sqs);
    await send(queue.queueUrl, [bodyOf(events(1)), bodyOf(events(1))]);
    const consumer = consumerOf(queue);
    const [quick, forgotten] = (await reserveAtLeast(consumer, 2)) as [ReservedEvent, ReservedEvent];

    // Act
    const stopping = consumer.stop({ drain: true, timeoutSeconds: 1.5 });
    const reserveWhileDraining = consumer.reserve(1).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await consumer.acknowledge([quick.id]);
    const result = await stopping;

    // Assess
    expect(await reserveWhileDraining).toMatchObject({
      constructor: ConsumerError,
      code: 'consumer-stopped',
    });
    expect(result.releasedEventIds).toEqual([forgotten.id]);
    const left = await drainQueue(sqs, queue.queueUrl);
    expect(left.flatMap((message) => message.envelope.events.map((event) => event.id))).toEqual([
      forgotten.id,
    ]);
  });

  it('calls onFinallyFailed before deleting when there is no dead-letter queue, and keeps the message when it throws', async () => {
    // Prepare
    const queue = await createQueueWithDeadLetterQueue(sqs, { maxReceiveCount: 10 });
    const [poison] = events(1) as [EnvelopeEvent];
    await send(queue.queueUrl, [bodyOf([poison])]);
    let calls = 0;
    const consumer = consumerOf(
      { queueUrl: queue.queueUrl },
      {
        maxRedeliveryCount: 1,
        onFinallyFailed: () => {
          calls += 1;
          if (calls === 1) throw new Error('pager unreachable');
        },
      },
    );

    // Act
    await consumer.reserve(1);
    const firstHandover = await consumer
      .fail([poison.id], { reason: 'bad' })
      .catch((error: unknown) => error);
    const [again] = await reserveAtLeast(consumer, 1);
    await consumer.fail([poison.id], { reason: 'still bad' });

    // Assess
    expect(firstHandover).toBeInstanceOf(ConsumerError);
    expect(firstHandover).toMatchObject({
      queueUrl: queue.queueUrl,
      operations: ['onFinallyFailed'],
      eventIds: [poison.id],
    });
    expect((firstHandover as Error).message).toContain('pager unreachable');
    expect((firstHandover as Error).cause).toMatchObject({ message: 'pager unreachable' });
    expect(again?.attempts).toBe(2);
    expect(calls).toBe(2);
    expect(await drainQueue(sqs, queue.queueUrl)).toEqual([]);
    expect(await drainQueue(sqs, queue.deadLetterQueueUrl)).toEqual([]);
  });

  it('fails with a ConsumerError naming the queue when it does not exist', async () => {
    // Prepare
    const { queueUrl: existing } = await createQueueWithDeadLetterQueue(sqs);
    const missing = existing.replace(/[^/]+$/, uniqueName('missing'));
    const consumer = consumerOf({ queueUrl: missing, deadLetterQueueUrl: `${missing}-dlq` });

    // Act
    const error = await consumer.reserve(1).catch((thrown: unknown) => thrown);

    // Assess
    expect(error).toBeInstanceOf(ConsumerError);
    expect(error).toMatchObject({ queueUrl: missing, operations: ['ReceiveMessage'] });
    expect((error as Error).message).toContain(missing);
    expect((error as Error).cause).toBeDefined();
  });

  describe('validation', () => {
    it('fails when ids are unknown, naming them, and changes nothing', async () => {
      // Prepare
      const queue = await createQueueWithDeadLetterQueue(sqs);
      await send(queue.queueUrl, [bodyOf(events(2))]);
      const consumer = consumerOf(queue);
      const [one, two] = (await reserveAtLeast(consumer, 2)) as [ReservedEvent, ReservedEvent];
      const stranger = ids.next();

      // Act
      const unknown = await consumer
        .acknowledge([one.id, stranger, 'not-an-id'])
        .catch((error: unknown) => error);

      // Assess
      expect(unknown).toMatchObject({ constructor: ConsumerError, code: 'event-not-reserved' });
      expect((unknown as Error).message).toContain(`unknown event id(s) "${stranger}", "not-an-id"`);
      expect(unknown).toMatchObject({ queueUrl: queue.queueUrl, eventIds: [stranger, 'not-an-id'] });
      expect(consumer.stats().eventsInFlight).toBe(2);
      expect(await visibleNow(queue.queueUrl)).toBe(0);
      await consumer.acknowledge([one.id]);
      await consumer.acknowledge([one.id]);
      await expect(consumer.fail([one.id])).rejects.toThrow(`event "${one.id}" was acknowledged already`);
      await consumer.fail([two.id], { retryAfterSeconds: 0 });
      await expect(consumer.acknowledge([two.id])).rejects.toThrow(`event "${two.id}" was failed already`);
    });

    it('fails when reserve(), fail() or stop() are given bad values, naming them', async () => {
      // Prepare
      const queue = await createQueueWithDeadLetterQueue(sqs);
      const consumer = consumerOf(queue);

      // Act
      const results = await Promise.all([
        consumer.reserve(0).catch((error: unknown) => error),
        consumer.fail([], { retryAfterSeconds: 901 }).catch((error: unknown) => error),
        consumer
          .fail([], { reason: 42 as unknown as string, delay: 3 } as never)
          .catch((error: unknown) => error),
        consumer.stop({ drain: 'yes' as unknown as boolean }).catch((error: unknown) => error),
      ]);

      // Assess
      for (const result of results) expect(result).toBeInstanceOf(ValidationError);
      const messages = results.map((result) => (result as Error).message);
      expect(messages[0]).toContain('reserve() takes a whole number of events from 1 to 10000 (given 0)');
      expect(messages[1]).toContain('retryAfterSeconds must be a whole number from 0 to 900 (given 901)');
      expect(messages[2]).toContain('unknown option "delay"');
      expect(messages[2]).toContain('reason must be a string or an Error (given 42)');
      expect(messages[3]).toContain('drain must be true or false (given "yes")');
      expect(consumer.isStopped).toBe(false);
    });

    const valid = { sqs, queueUrl: 'http://127.0.0.1:1/000000000000/q', onFinallyFailed: () => {} };
    it.each([
      {
        name: 'fails when an option is unknown',
        options: { ...valid, retries: 3 },
        message: /unknown option "retries"/,
      },
      {
        name: 'fails when numbers are out of range, naming each',
        options: { ...valid, visibilityTimeoutSeconds: 0, maxRedeliveryCount: 1.5, waitTimeSeconds: 21 },
        message:
          /maxRedeliveryCount must be a whole number from 1 to 99 \(given 1.5\); visibilityTimeoutSeconds must be a whole number from 1 to 43200 \(given 0\); waitTimeSeconds must be a whole number from 0 to 20 \(given 21\)/,
      },
      {
        name: 'fails when the heartbeat is not shorter than the visibility timeout',
        options: { ...valid, visibilityTimeoutSeconds: 10, heartbeatIntervalSeconds: 10 },
        message: /heartbeatIntervalSeconds \(10\) must be less than visibilityTimeoutSeconds \(10\)/,
      },
      {
        name: 'fails when the backoff is invalid',
        options: { ...valid, backoff: { baseDelaySeconds: 0, step: 2 } },
        message:
          /unknown option "backoff.step".*backoff.baseDelaySeconds must be a whole number from 1 to 900 \(given 0\)/,
      },
      {
        name: 'fails when the queue is FIFO',
        options: { ...valid, queueUrl: 'http://127.0.0.1:1/000000000000/q.fifo' },
        message: /queueUrl must be a standard queue.*\(given "http:\/\/127.0.0.1:1\/000000000000\/q.fifo"\)/,
      },
      {
        name: 'fails when there is neither a dead-letter queue nor onFinallyFailed',
        options: { sqs, queueUrl: valid.queueUrl },
        message: /give deadLetterQueueUrl, onFinallyFailed, or both/,
      },
      {
        name: 'fails when the client and the URLs are not what they should be',
        options: { sqs: {}, queueUrl: 'q', deadLetterQueueUrl: 7, onFinallyFailed: 'call me' },
        message:
          /sqs must be an SQSClient \(given \{\}\); queueUrl must be a queue URL \(given "q"\); deadLetterQueueUrl must be a queue URL \(given 7\).*onFinallyFailed must be a function \(given "call me"\)/,
      },
    ])('$name', ({ options, message }) => {
      // Act
      const create = () => PullConsumer.create(options as unknown as PullConsumerOptions);

      // Assess
      expect(create).toThrow(ValidationError);
      expect(create).toThrow(message);
    });
  });
});

/** Receives and deletes the bodies of the dead-letter queue until `expected` came (or 10 s passed). */
async function drainDeadLetterBodies(queueUrl: string, expected: number): Promise<string[]> {
  const bodies: string[] = [];
  await waitFor(
    `${expected} dead letters`,
    async () => {
      const output = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      bodies.push(...(output.Messages ?? []).map((message) => message.Body ?? ''));
      return bodies.length >= expected;
    },
    { timeoutMs: 10_000 },
  );
  return bodies;
}
