import { Logger } from '@aws-lambda-powertools/logger';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../lib';
import { LeaseLostError } from '../../lib/errors';
import { UNKNOWN_FAILURE_MESSAGE } from '../../lib/failed/constants';
import { handleDeadLetters } from '../../lib/failed/dlq-consumer';
import { createFailedEventFunction } from '../../lib/failed/failed-event-function';
import { FailureStore } from '../../lib/failed/failure-store';
import type { FailedEventLogger, SqsRecordLike } from '../../lib/failed/records';
import {
  DEAD_LETTER_STEPS,
  type FailedEvent,
  type FailedHandler,
  UNKNOWN_FAILURE_NAME,
} from '../../lib/failed/types';
import { type EnvelopeEvent, envelopeBody } from '../../lib/messages/envelope';
import { EventIdGenerator } from '../../lib/time/event-id';
import {
  createQueueWithDeadLetterQueue,
  createStreamTable,
  dynamodbClient,
  sqsClient,
  uniqueName,
} from '../support/aws';
import { waitFor } from '../support/wait-for';

const HOUR = 3_600_000;
const dynamodb = dynamodbClient();
const ids = new EventIdGenerator();
let table: Awaited<ReturnType<typeof createStreamTable>>;
let store: FailureStore;

beforeAll(async () => {
  table = await createStreamTable(dynamodb, 'state');
  store = new FailureStore({ tableName: table.name, client: dynamodb });
});
afterAll(() => table.drop());

/** An event as the worker moves it to the DLQ: tried `attempts` times, the last failing with `error`. */
function deadEvent(
  overrides: {
    type?: string;
    attempts?: number;
    error?: Partial<EnvelopeEvent['lastError']> | null;
    id?: string;
  } = {},
): EnvelopeEvent {
  const base = {
    id: overrides.id ?? ids.next(),
    type: overrides.type ?? 'order.placed',
    data: { orderId: 'o-1' },
  };
  if (overrides.error === null) return base;
  return {
    ...base,
    attempts: overrides.attempts ?? 5,
    lastError: { name: 'TypeError', message: 'total is undefined', at: Date.now(), ...overrides.error },
  };
}

function body(pipeline: string, events: readonly EnvelopeEvent[]): string {
  return envelopeBody({ pipeline, stream: 'orders' }, events);
}

let messageCount = 0;
function sqsRecord(overrides: Partial<SqsRecordLike> & { body: string }): SqsRecordLike {
  messageCount += 1;
  return { messageId: `m-${messageCount}-${Date.now()}`, ...overrides };
}

/** A failed handler that remembers each call. */
function recordingHandler(behaviour: (call: number) => void = () => {}) {
  const calls: FailedEvent[][] = [];
  const handler: FailedHandler = async (failures) => {
    calls.push([...failures]);
    behaviour(calls.length);
  };
  return { calls, handler };
}

/** A logger that keeps what was logged at each level. */
function memoryLogger() {
  const entries: { level: string; message: string; extra: unknown[] }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: unknown[]) => {
      entries.push({ level, message, extra });
    };
  const logger: FailedEventLogger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return { entries, logger };
}

describe('handing dead events over', () => {
  it('hands a poison event over exactly once, with its last error, when its message comes twice', async () => {
    // Prepare
    const pipeline = uniqueName('poison');
    const event = deadEvent({ attempts: 5, error: { name: 'TypeError', message: 'total is undefined' } });
    const record = sqsRecord({ body: body(pipeline, [event]) });
    const { calls, handler } = recordingHandler();

    // Act
    const first = await handleDeadLetters([record], { pipeline, store, failedHandler: handler });
    const second = await handleDeadLetters([record], { pipeline, store, failedHandler: handler });

    // Assess
    expect(calls).toHaveLength(1);
    const [failure] = calls[0] ?? [];
    expect(failure).toMatchObject({
      pipeline,
      attempts: 5,
      lastError: event.lastError,
      failedAt: event.lastError?.at,
      event: { id: event.id, stream: 'orders', type: 'order.placed', data: { orderId: 'o-1' } },
    });
    expect(failure?.event.time).toBeInstanceOf(Date);
    expect(first).toEqual({
      batchItemFailures: [],
      handled: 1,
      skippedAsDuplicates: 0,
      claimedElsewhere: 0,
      malformed: 0,
      completedBefore: 0,
    });
    expect(second).toEqual({
      batchItemFailures: [],
      handled: 0,
      skippedAsDuplicates: 1,
      claimedElsewhere: 0,
      malformed: 0,
      completedBefore: 0,
    });
    expect(await store.getFailure(pipeline, event.id)).toMatchObject({
      status: 'handled',
      attempts: 5,
      lastError: event.lastError,
      dlqMessageId: record.messageId,
    });
  });

  it('hands an event over once when the same message is handled by several consumers at the same time', async () => {
    // Prepare
    const pipeline = uniqueName('concurrent');
    const events = [deadEvent(), deadEvent()];
    const record = sqsRecord({ body: body(pipeline, events) });
    const { calls, handler } = recordingHandler();

    // Act
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        handleDeadLetters([record], { pipeline, store, failedHandler: handler }),
      ),
    );
    // SQS delivers again the message of every consumer that reported it, after they all finished.
    const again = await Promise.all(
      results
        .filter((result) => result.batchItemFailures.length > 0)
        .map(() => handleDeadLetters([record], { pipeline, store, failedHandler: handler })),
    );

    // Assess
    expect(
      calls
        .flat()
        .map((failure) => failure.event.id)
        .sort(),
    ).toEqual(events.map((event) => event.id).sort());
    expect(results.reduce((sum, result) => sum + result.handled, 0)).toBe(2);
    for (const result of results) {
      // A consumer that found the events held elsewhere reports the message, so it comes again.
      expect(result.batchItemFailures.length > 0).toBe(result.claimedElsewhere > 0);
    }
    for (const result of again)
      expect(result).toMatchObject({ batchItemFailures: [], handled: 0, skippedAsDuplicates: 2 });
  });

  it('hands the events of one batch over in one call, skipping those handed over before', async () => {
    // Prepare
    const pipeline = uniqueName('batch');
    const before = deadEvent();
    await handleDeadLetters([sqsRecord({ body: body(pipeline, [before]) })], {
      pipeline,
      store,
      failedHandler: async () => {},
    });
    const events = [deadEvent(), deadEvent({ type: 'order.paid' }), deadEvent(), deadEvent(), deadEvent()];
    const records = [
      sqsRecord({ body: body(pipeline, events.slice(0, 2)) }),
      sqsRecord({ body: body(pipeline, [events[2] as EnvelopeEvent, before]) }),
      sqsRecord({ body: body(pipeline, events.slice(3)) }),
    ];
    const { calls, handler } = recordingHandler();

    // Act
    const result = await handleDeadLetters(records, {
      pipeline,
      store,
      failedHandler: handler,
      requestId: 'req-1',
    });

    // Assess
    expect(calls).toHaveLength(1);
    expect(calls[0]?.map((failure) => failure.event.id)).toEqual(events.map((event) => event.id));
    expect(result).toMatchObject({ batchItemFailures: [], handled: 5, skippedAsDuplicates: 1 });
  });

  it('fails the batch when the failed handler throws, and hands its events over once on a later delivery', async () => {
    // Prepare
    const pipeline = uniqueName('throws');
    const events = [deadEvent(), deadEvent(), deadEvent()];
    const records = [
      sqsRecord({ body: body(pipeline, events.slice(0, 2)) }),
      sqsRecord({ body: body(pipeline, events.slice(2)) }),
    ];
    const failing = recordingHandler(() => {
      throw new Error('pager service is down');
    });
    const { entries, logger } = memoryLogger();

    // Act
    const failed = await handleDeadLetters(records, {
      pipeline,
      store,
      failedHandler: failing.handler,
      logger,
    });

    // Assess: every message comes again, and the events wait as pending failures.
    expect(failed.batchItemFailures).toEqual(records.map((record) => ({ itemIdentifier: record.messageId })));
    expect(failed.handled).toBe(0);
    expect(entries.find((entry) => entry.level === 'error')?.message).toMatch(/the failed handler threw/);
    expect((await store.getFailure(pipeline, events[0]?.id as string))?.status).toBe('pending');

    // Act: SQS delivers them again, and now the handler succeeds.
    const working = recordingHandler();
    const second = await handleDeadLetters(records, { pipeline, store, failedHandler: working.handler });
    const third = await handleDeadLetters(records, { pipeline, store, failedHandler: working.handler });

    // Assess
    expect(failing.calls).toHaveLength(1);
    expect(working.calls).toHaveLength(1);
    expect(working.calls[0]?.map((failure) => failure.event.id)).toEqual(events.map((event) => event.id));
    expect(second).toMatchObject({ batchItemFailures: [], handled: 3 });
    expect(third).toMatchObject({ batchItemFailures: [], handled: 0, skippedAsDuplicates: 3 });
    expect((await store.getFailure(pipeline, events[0]?.id as string))?.status).toBe('handled');
  });

  it('gives an event SQS moved to the DLQ an UnknownFailure and the receive count as its attempts', async () => {
    // Prepare: the worker never reports, so SQS moves the message after two receives.
    const sqs = sqsClient();
    const queue = await createQueueWithDeadLetterQueue(sqs, { maxReceiveCount: 2 });
    const pipeline = uniqueName('timeout');
    const event = deadEvent({ error: null });
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: body(pipeline, [event]) }),
    );
    for (let receive = 0; receive < 2; receive += 1) {
      const output = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.queueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 1 }),
      );
      expect(output.Messages).toHaveLength(1);
    }
    const message = await waitFor('the message in the DLQ', async () => {
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
    const attributes = {
      ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount as string,
      SentTimestamp: message.Attributes?.SentTimestamp as string,
    };
    const record = sqsRecord({
      messageId: message.MessageId as string,
      body: message.Body as string,
      attributes,
    });
    const { calls, handler } = recordingHandler();

    // Act
    const result = await handleDeadLetters([record], { pipeline, store, failedHandler: handler });

    // Assess
    expect(Number(attributes.ApproximateReceiveCount)).toBeGreaterThanOrEqual(2);
    expect(result).toMatchObject({ batchItemFailures: [], handled: 1 });
    expect(calls[0]?.[0]).toMatchObject({
      attempts: Number(attributes.ApproximateReceiveCount),
      lastError: {
        name: UNKNOWN_FAILURE_NAME,
        message: UNKNOWN_FAILURE_MESSAGE,
        at: Number(attributes.SentTimestamp),
      },
    });
    expect((await store.getFailure(pipeline, event.id))?.lastError.name).toBe(UNKNOWN_FAILURE_NAME);
  });

  it('records a malformed message, logs it, and lets it go; the batch is handed over without it', async () => {
    // Prepare
    const pipeline = uniqueName('malformed');
    const event = deadEvent();
    const huge = `not json ${'x'.repeat(100_000)}`;
    const records = [
      sqsRecord({ body: 'oops', attributes: { SentTimestamp: String(Date.now() - 1_000) } }),
      sqsRecord({ body: JSON.stringify({ Records: [{ eventSource: 'aws:s3' }] }) }),
      sqsRecord({ body: huge }),
      sqsRecord({ body: body(pipeline, [event]) }),
    ];
    const { calls, handler } = recordingHandler();
    const { entries, logger } = memoryLogger();

    // Act
    const result = await handleDeadLetters(records, { pipeline, store, failedHandler: handler, logger });
    const again = await handleDeadLetters(records.slice(0, 1), { pipeline, store, failedHandler: handler });

    // Assess
    expect(result).toEqual({
      batchItemFailures: [],
      handled: 1,
      skippedAsDuplicates: 0,
      claimedElsewhere: 0,
      malformed: 3,
      completedBefore: 0,
    });
    expect(again.malformed).toBe(1);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.map((failure) => failure.event.id)).toEqual([event.id]);
    expect(entries.filter((entry) => entry.level === 'error')).toHaveLength(3);
    const { records: recorded } = await store.listMalformed(pipeline);
    // The same message delivered twice keeps one record (it is keyed by its SentTimestamp).
    expect(recorded).toHaveLength(3);
    const byId = new Map(recorded.map((entry) => [entry.messageId, entry]));
    expect(byId.get(records[0]?.messageId as string)).toMatchObject({
      body: 'oops',
      bodyTruncated: false,
      error: { name: 'MalformedMessageError', message: expect.stringMatching(/its body is not JSON/) },
    });
    expect(byId.get(records[1]?.messageId as string)?.error.message).toMatch(/sluice/);
    expect(byId.get(records[2]?.messageId as string)).toMatchObject({
      bodyBytes: Buffer.byteLength(huge),
      bodyTruncated: true,
    });
    expect(Buffer.byteLength(byId.get(records[2]?.messageId as string)?.body ?? '')).toBe(64 * 1024);
  });
});

describe("committing with the mark (the failed handler's ackCommit)", () => {
  let events: Awaited<ReturnType<typeof createStreamTable>>;
  let eventLog: EventLog;
  beforeAll(async () => {
    events = await createStreamTable(dynamodb, 'events');
    eventLog = new EventLog({ tableName: events.name, client: dynamodb });
  });
  afterAll(() => events.drop());

  /** A failed handler that commits one `alerted` event per failure, and counts its calls. */
  function committingHandler(stream: string) {
    const calls: string[] = [];
    const handler: FailedHandler = async (failures, context) => {
      for (const { event } of failures) {
        calls.push(event.id);
        context.commit(event.id, { stream, type: 'alerted', data: { source: event.id } });
      }
    };
    return { calls, handler };
  }

  async function committed(stream: string): Promise<string[]> {
    const sources: string[] = [];
    for await (const event of eventLog.events<{ source: string }>(stream)) sources.push(event.data.source);
    return sources;
  }

  it('commits once when the consumer dies after the handler returned: neither the commit nor the mark landed', async () => {
    // Prepare
    const pipeline = uniqueName('alerts');
    const stream = uniqueName('alerts');
    const dead = [deadEvent(), deadEvent()];
    const record = sqsRecord({ body: body(pipeline, dead) });
    const { calls, handler } = committingHandler(stream);
    const options = { pipeline, store, eventLog, failedHandler: handler, claimDurationMs: 1_000 };

    // Act: the first delivery dies after the handler; the second comes once the claims expired.
    const crash = handleDeadLetters([record], {
      ...options,
      onStep: (step) => {
        if (step === DEAD_LETTER_STEPS.afterFailedHandler) throw new Error('crash after the failed handler');
      },
    });
    await expect(crash).rejects.toThrow('crash after the failed handler');
    const afterCrash = await committed(stream);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const second = await handleDeadLetters([record], options);
    const third = await handleDeadLetters([record], options);

    // Assess
    expect(afterCrash).toEqual([]);
    expect(calls.sort()).toEqual([...dead.map((e) => e.id), ...dead.map((e) => e.id)].sort());
    expect((await committed(stream)).sort()).toEqual(dead.map((e) => e.id).sort());
    expect(second).toMatchObject({ batchItemFailures: [], handled: 2 });
    expect(third).toMatchObject({ handled: 0, skippedAsDuplicates: 2 });
    for (const event of dead)
      expect(await store.getFailure(pipeline, event.id)).toMatchObject({ status: 'handled' });
  });

  it('refuses a commit for an event not handed over, or with no event log, and hands the events over again', async () => {
    // Prepare
    const pipeline = uniqueName('alerts');
    const event = deadEvent();
    const record = sqsRecord({ body: body(pipeline, [event]) });
    const errors: unknown[] = [];
    const handler =
      (id: () => string): FailedHandler =>
      async (_failures, context) => {
        try {
          context.commit(id(), { stream: 'alerts', type: 'alerted', data: {} });
        } catch (error) {
          errors.push(error);
          throw error;
        }
      };

    // Act
    const stranger = await handleDeadLetters([record], {
      pipeline,
      store,
      eventLog,
      failedHandler: handler(() => 'not-an-event'),
    });
    const noLog = await handleDeadLetters([record], {
      pipeline,
      store,
      failedHandler: handler(() => event.id),
    });

    // Assess
    expect(String(errors[0])).toMatch(
      /context.commit: "not-an-event" is not the id of a failure handed over/,
    );
    expect(String(errors[1])).toMatch(/context.commit needs an event log: set SLUICE_EVENT_LOG_TABLE/);
    for (const result of [stranger, noLog])
      expect(result.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(await store.getFailure(pipeline, event.id)).not.toMatchObject({ status: 'handled' });
  });
});

describe('claims', () => {
  it('lets one consumer hold an event, another take it once the claim expires, and the first lose it', async () => {
    // Prepare
    let now = Date.parse('2024-05-01T12:00:00.000Z');
    const clocked = new FailureStore({ tableName: table.name, client: dynamodb, clock: () => now });
    const pipeline = uniqueName('claims');
    const eventId = ids.next();
    const failedAt = now - HOUR;

    // Act
    const first = await clocked.claim(pipeline, eventId, 60_000, { failedAt });
    const meanwhile = await clocked.claim(pipeline, eventId, 60_000);
    now += 60_000;
    const later = await clocked.claim(pipeline, eventId, 60_000, { failedAt: now });

    // Assess
    expect(first).toMatchObject({ status: 'claimed', claim: { failedAt } });
    expect(meanwhile).toEqual({ status: 'busy', claimExpiresAt: now });
    // The first claim fixed the failure time: the record keeps one key.
    expect(later).toMatchObject({ status: 'claimed', claim: { failedAt } });
    if (first.status !== 'claimed' || later.status !== 'claimed') throw new Error('unreachable');
    const failure: FailedEvent = {
      pipeline,
      event: { id: eventId, stream: 'orders', type: 'order.placed', time: new Date(now), data: {} },
      attempts: 3,
      lastError: { name: 'Error', message: 'boom', at: failedAt },
      failedAt,
    };
    await expect(clocked.markHandled(first.claim, failure)).rejects.toMatchObject({
      constructor: LeaseLostError,
      lease: 'failed-event claim',
    });
    await expect(clocked.markHandled(first.claim, failure)).rejects.toThrow(
      /the claim expired and another consumer took/,
    );
    expect(await clocked.release(first.claim)).toBe(false);
    await clocked.markHandled(later.claim, failure);
    expect(await clocked.claim(pipeline, eventId, 60_000)).toMatchObject({ status: 'handled' });
    now += 365 * 24 * HOUR;
    expect(await clocked.claim(pipeline, eventId, 60_000)).toMatchObject({ status: 'handled' });
  });

  it('lets a released claim be taken again at once', async () => {
    const pipeline = uniqueName('release');
    const eventId = ids.next();
    const first = await store.claim(pipeline, eventId, 600_000);
    if (first.status !== 'claimed') throw new Error('expected a claim');
    expect(await store.release(first.claim)).toBe(true);
    expect(await store.claim(pipeline, eventId, 600_000)).toMatchObject({ status: 'claimed' });
  });
});

describe('listing failures', () => {
  it('returns records newest first across two days, a page at a time', async () => {
    // Prepare: five failures over midnight, handed over through the consumer.
    const now = Date.parse('2024-05-02T12:00:00.000Z');
    const clocked = new FailureStore({ tableName: table.name, client: dynamodb, clock: () => now });
    const pipeline = uniqueName('listing');
    const times = [
      '2024-05-01T22:00:00Z',
      '2024-05-01T23:00:00Z',
      '2024-05-02T01:00:00Z',
      '2024-05-02T02:00:00Z',
      '2024-05-02T03:00:00Z',
    ];
    const events = times.map((time) =>
      deadEvent({ error: { at: Date.parse(time), message: `failed at ${time}` } }),
    );
    await handleDeadLetters(
      events.map((event) => sqsRecord({ body: body(pipeline, [event]) })),
      { pipeline, store: clocked, failedHandler: async () => {}, clock: () => now },
    );
    const pending = deadEvent({ error: { at: Date.parse('2024-05-02T04:00:00Z') } });
    await handleDeadLetters([sqsRecord({ body: body(pipeline, [pending]) })], {
      pipeline,
      store: clocked,
      failedHandler: () => {
        throw new Error('not now');
      },
      clock: () => now,
    });

    // Act
    const pages = [];
    let cursor: string | undefined;
    do {
      const page = await clocked.listFailures(pipeline, { limit: 2, ...(cursor ? { cursor } : {}) });
      pages.push(page.failures);
      cursor = page.cursor;
    } while (cursor);
    const since = await clocked.listFailures(pipeline, {
      from: new Date('2024-05-01T22:30:00Z'),
      to: new Date('2024-05-02T02:30:00Z'),
    });

    // Assess
    const listed = pages.flat();
    expect(listed.map((failure) => failure.event.id)).toEqual(
      [pending, ...[...events].reverse()].map((event) => event.id),
    );
    expect(pages[0]).toHaveLength(2);
    expect(listed.map((failure) => failure.status)).toEqual([
      'pending',
      'handled',
      'handled',
      'handled',
      'handled',
      'handled',
    ]);
    expect(listed[1]).toMatchObject({
      pipeline,
      attempts: 5,
      failedAt: Date.parse(times[4] as string),
      lastError: events[4]?.lastError,
    });
    expect(since.failures.map((failure) => failure.event.id)).toEqual(
      [events[3], events[2], events[1]].map((event) => event?.id),
    );
    expect(since.cursor).toBeUndefined();
    await expect(
      clocked.listFailures(pipeline, {
        from: new Date('2024-05-02T00:00:00Z'),
        cursor: encodeDay('20240430'),
      }),
    ).rejects.toThrow(/cursor points at day 20240430, outside the listing's range of 20240502 to 20240502/);
  });
});

describe('the failed-event Lambda function', () => {
  it('handles an SQS event and returns the partial batch response', async () => {
    // Prepare
    const pipeline = uniqueName('function');
    const event = deadEvent();
    const { calls, handler: failedHandler } = recordingHandler();
    const handler = createFailedEventFunction({
      pipeline,
      store,
      failedHandler,
      logger: new Logger({ serviceName: 'sluice-failed-test', logLevel: 'SILENT' }),
      env: {},
    });
    const context = {
      awsRequestId: 'req-7',
      functionName: 'failed',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:failed',
      memoryLimitInMB: '256',
      getRemainingTimeInMillis: () => 30_000,
    };

    // Act
    const response = await handler(
      { Records: [sqsRecord({ body: body(pipeline, [event]) })] },
      context as never,
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(calls[0]?.map((failure) => failure.event.id)).toEqual([event.id]);
  });
});

function encodeDay(day: string): string {
  return Buffer.from(JSON.stringify({ d: day }), 'utf8').toString('base64url');
}
