import type { SendMessageBatchCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { RedriveError } from '../../lib/failed/errors';
import { redriveDeadLetters } from '../../lib/failed/redrive';
import { type EnvelopeEvent, envelopeBody, parseEnvelope } from '../../lib/messages/envelope';
import { sendMessageBatches } from '../../lib/sqs/send-message-batches';
import { EventIdGenerator } from '../../lib/time/event-id';
import { createQueueWithDeadLetterQueue, sqsClient } from '../support/aws';
import { drainBodies } from '../support/pipeline-fixture';

const ids = new EventIdGenerator();
const timeout = (at: number) => ({
  name: 'TimeoutError',
  message: 'partner API timed out after 3000 ms',
  at,
});
const typeError = (at: number) => ({ name: 'TypeError', message: 'total is undefined', at });

function deadEvent(type: string, lastError?: EnvelopeEvent['lastError']): EnvelopeEvent {
  const id = ids.next();
  return lastError
    ? { id, type, data: { id }, partitionKey: 'customer-1', attempts: 5, lastError }
    : { id, type, data: { id } };
}

function body(events: readonly EnvelopeEvent[]): string {
  return envelopeBody({ pipeline: 'billing', stream: 'orders' }, events);
}

/**
 * A queue whose DLQ holds four messages: [placed/Timeout, paid/TypeError], [placed/Timeout],
 * [shipped, no recorded error] and a body that is not an envelope.
 */
async function deadLetterQueueWithMessages(sqs: SQSClient) {
  const queue = await createQueueWithDeadLetterQueue(sqs);
  const now = Date.now();
  const events = {
    placedTimeout: deadEvent('order.placed', timeout(now)),
    paidTypeError: deadEvent('order.paid', typeError(now)),
    placedTimeoutAlone: deadEvent('order.placed', timeout(now)),
    shippedUnknown: deadEvent('order.shipped'),
  };
  const bodies = [
    body([events.placedTimeout, events.paidTypeError]),
    body([events.placedTimeoutAlone]),
    body([events.shippedUnknown]),
    'this is not JSON',
  ];
  await sendMessageBatches(
    sqs,
    queue.deadLetterQueueUrl,
    bodies.map((text, index) => ({ id: String(index), body: text })),
    { throwOnFailure: true },
  );
  return { ...queue, events, bodies };
}

/** The events of envelope bodies, by id; malformed bodies are left out. */
function eventsOf(bodies: readonly string[]): Map<string, EnvelopeEvent> {
  const events = new Map<string, EnvelopeEvent>();
  for (const text of bodies) {
    if (!text.startsWith('{')) continue;
    for (const event of parseEnvelope(text).events) events.set(event.id, event);
  }
  return events;
}

describe('redriving dead letters', () => {
  it('changes nothing in a dry run, and counts what would move', async () => {
    // Prepare
    const sqs = sqsClient();
    const queue = await deadLetterQueueWithMessages(sqs);

    // Act
    const result = await redriveDeadLetters({
      sqs,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      queueUrl: queue.queueUrl,
      filter: { errorName: 'TimeoutError' },
      dryRun: true,
      waitTimeSeconds: 0,
    });

    // Assess: the messages read are visible again at once, unchanged; nothing reached the main queue.
    expect(result).toEqual({
      examined: 4,
      moved: 2,
      kept: 2,
      messagesDeleted: 0,
      malformed: 1,
      dryRun: true,
    });
    expect((await drainBodies(sqs, queue.deadLetterQueueUrl)).sort()).toEqual([...queue.bodies].sort());
    expect(await drainBodies(sqs, queue.queueUrl)).toEqual([]);
  });

  it('moves only matching events, for a fresh start, and keeps the rest in the DLQ with their errors', async () => {
    // Prepare
    const sqs = sqsClient();
    const queue = await deadLetterQueueWithMessages(sqs);
    const { events } = queue;

    // Act
    const result = await redriveDeadLetters({
      sqs,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      queueUrl: queue.queueUrl,
      filter: { types: ['order.placed', 'order.paid'], errorName: 'TimeoutError' },
      waitTimeSeconds: 0,
    });

    // Assess
    expect(result).toEqual({
      examined: 4,
      moved: 2,
      kept: 2,
      messagesDeleted: 2,
      malformed: 1,
      dryRun: false,
    });
    const moved = await drainBodies(sqs, queue.queueUrl);
    expect(moved).toHaveLength(2);
    expect(eventsOf(moved)).toEqual(
      new Map(
        [events.placedTimeout, events.placedTimeoutAlone].map(({ lastError: _lastError, ...event }) => [
          event.id,
          { ...event, attempts: 0 },
        ]),
      ),
    );
    const left = await drainBodies(sqs, queue.deadLetterQueueUrl);
    expect(left).toHaveLength(3);
    expect(left).toContain('this is not JSON');
    expect(left).toContain(queue.bodies[2]);
    expect(eventsOf(left)).toEqual(
      new Map([events.paidTypeError, events.shippedUnknown].map((event) => [event.id, event])),
    );
  });

  it('moves everything when there is no filter, leaving only the malformed message', async () => {
    const sqs = sqsClient();
    const queue = await deadLetterQueueWithMessages(sqs);

    const result = await redriveDeadLetters({
      sqs,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      queueUrl: queue.queueUrl,
      waitTimeSeconds: 0,
    });

    expect(result).toEqual({
      examined: 4,
      moved: 4,
      kept: 0,
      messagesDeleted: 3,
      malformed: 1,
      dryRun: false,
    });
    expect(eventsOf(await drainBodies(sqs, queue.queueUrl)).size).toBe(4);
    expect(await drainBodies(sqs, queue.deadLetterQueueUrl)).toEqual(['this is not JSON']);
  });

  it('spaces SendMessageBatch calls to keep to the rate limit', async () => {
    // Prepare: 23 dead messages; a clock that the injected sleep moves on.
    const sqs = sqsClient();
    const queue = await createQueueWithDeadLetterQueue(sqs);
    const dead = Array.from({ length: 23 }, (_, index) => body([deadEvent('tick', timeout(index))]));
    await sendMessageBatches(
      sqs,
      queue.deadLetterQueueUrl,
      dead.map((text, index) => ({ id: String(index), body: text })),
      { throwOnFailure: true },
    );
    let now = 0;
    const delays: number[] = [];
    const calls: number[] = [];
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as SendMessageBatchCommandInput;
        if (context.commandName === 'SendMessageBatchCommand' && input.QueueUrl === queue.queueUrl) {
          calls.push(input.Entries?.length ?? 0);
        }
        return next(args);
      },
      { step: 'initialize', name: 'testCountSends' },
    );

    // Act
    const result = await redriveDeadLetters({
      sqs,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      queueUrl: queue.queueUrl,
      maxMessagesPerSecond: 4,
      waitTimeSeconds: 0,
      clock: () => now,
      sleep: async (ms) => {
        delays.push(ms);
        now += ms;
      },
    });

    // Assess: at most 4 messages a call, and each call waits a quarter second per message of the one before.
    expect(result).toMatchObject({ examined: 23, moved: 23, messagesDeleted: 23 });
    expect(calls.reduce((sum, count) => sum + count, 0)).toBe(23);
    expect(Math.max(...calls)).toBeLessThanOrEqual(4);
    expect(delays).toEqual(calls.slice(0, -1).map((count) => count * 250));
    expect(delays.reduce((sum, delay) => sum + delay, 0)).toBe((23 - (calls.at(-1) ?? 0)) * 250);
    expect(await drainBodies(sqs, queue.queueUrl)).toHaveLength(23);
  });

  it('examines at most maxMessages messages', async () => {
    const sqs = sqsClient();
    const queue = await deadLetterQueueWithMessages(sqs);

    const result = await redriveDeadLetters({
      sqs,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      queueUrl: queue.queueUrl,
      maxMessages: 1,
      dryRun: true,
      waitTimeSeconds: 0,
    });

    expect(result.examined).toBe(1);
    expect(await drainBodies(sqs, queue.deadLetterQueueUrl)).toHaveLength(4);
  });

  it('fails when the main queue refuses a batch, and loses nothing: the DLQ keeps the message', async () => {
    // Prepare: every SendMessageBatch to the main queue is refused before it is sent.
    const sqs = sqsClient();
    const queue = await deadLetterQueueWithMessages(sqs);
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as SendMessageBatchCommandInput;
        if (context.commandName === 'SendMessageBatchCommand' && input.QueueUrl === queue.queueUrl) {
          throw Object.assign(new Error('Access to the queue is denied (injected)'), {
            name: 'AccessDenied',
            $fault: 'client',
            $metadata: { httpStatusCode: 403, attempts: 1, totalRetryDelay: 0 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'testRefuseMainQueue', override: true },
    );

    // Act
    const redrive = redriveDeadLetters({
      sqs,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      queueUrl: queue.queueUrl,
      filter: { errorName: 'TimeoutError' },
      waitTimeSeconds: 0,
    });

    // Assess
    const error = await redrive.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RedriveError);
    expect((error as RedriveError).messageIds).toHaveLength(2);
    expect((error as RedriveError).progress).toMatchObject({ moved: 0, messagesDeleted: 0 });
    expect((error as RedriveError).message).toMatch(/Access to the queue is denied/);
    expect((await drainBodies(sqs, queue.deadLetterQueueUrl)).sort()).toEqual([...queue.bodies].sort());
    expect(await drainBodies(sqsClient(), queue.queueUrl)).toEqual([]);
  });
});
