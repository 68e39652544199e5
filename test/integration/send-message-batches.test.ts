import {
  GetQueueAttributesCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { TooLargeError, ValidationError } from '../../lib/errors';
import {
  MAX_BATCH_PAYLOAD_BYTES,
  type OutgoingMessage,
  SendMessagesError,
  sendMessageBatches,
} from '../../lib/sqs';
import { createQueueWithDeadLetterQueue, sqsClient, uniqueName } from '../support/aws';
import { holdSendMessageBatchCalls } from '../support/held-calls';
import { drainBodies } from '../support/pipeline-fixture';

const sqs = sqsClient();

/** A body of exactly `bytes` UTF-8 bytes that starts with the message id; `wide` pads with 2-byte characters. */
function bodyOf(id: string, bytes: number, wide = false): string {
  const head = `${id}|`;
  const room = bytes - Buffer.byteLength(head);
  return wide ? head + 'é'.repeat(Math.floor(room / 2)) + 'x'.repeat(room % 2) : head + 'x'.repeat(room);
}

/** `count` messages with ids `m-0`, `m-1`, ...; sizes and FIFO fields as asked. */
function outgoingMessages(
  count: number,
  options: { bytes?: (index: number) => number; wide?: (index: number) => boolean; groupId?: string } = {},
): OutgoingMessage[] {
  return Array.from({ length: count }, (_, index) => {
    const id = `m-${index}`;
    const message: OutgoingMessage = {
      id,
      body: bodyOf(id, options.bytes?.(index) ?? 64, options.wide?.(index) ?? false),
    };
    return options.groupId ? { ...message, groupId: options.groupId, deduplicationId: id } : message;
  });
}

const idsOf = (messages: readonly OutgoingMessage[]) => messages.map((message) => message.id);
const bodiesOf = (messages: readonly OutgoingMessage[]) => messages.map((message) => message.body);

/** Records, for every SendMessageBatch call made through `client`, the entries it asked SQS to take. */
function recordCalls(client: SQSClient): SendMessageBatchRequestEntry[][] {
  const calls: SendMessageBatchRequestEntry[][] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SendMessageBatchCommand')
        calls.push([...((args.input as SendMessageBatchCommandInput).Entries ?? [])]);
      return next(args);
    },
    { step: 'initialize', priority: 'high', name: 'testRecordCalls' },
  );
  return calls;
}

/** The payload of one call as SQS counts it (the tests send no message attributes). */
const callBytes = (entries: readonly SendMessageBatchRequestEntry[]) =>
  entries.reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody ?? ''), 0);

/**
 * Makes SQS report the entries with the given bodies under `Failed` in the next `times` SendMessageBatch
 * calls that hold them. The entries are taken out of the request before it is sent, so they really do
 * not land: a faithful entry failure, which the emulator cannot produce by itself.
 */
function failEntries(
  client: SQSClient,
  failure: { bodies: readonly string[]; senderFault: boolean; code: string; times?: number },
): void {
  let remaining = failure.times ?? 1;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as SendMessageBatchCommandInput;
      const refused = (input.Entries ?? []).filter((entry) =>
        failure.bodies.includes(entry.MessageBody ?? ''),
      );
      if (context.commandName !== 'SendMessageBatchCommand' || refused.length === 0 || remaining <= 0)
        return next(args);
      remaining -= 1;
      const kept = (input.Entries ?? []).filter((entry) => !refused.includes(entry));
      const result =
        kept.length > 0
          ? await next({ ...args, input: { ...input, Entries: kept } })
          : { output: { Successful: [], Failed: [], $metadata: {} }, response: undefined };
      const output = result.output as SendMessageBatchCommandOutput;
      output.Failed = [
        ...(output.Failed ?? []),
        ...refused.map((entry) => ({
          Id: entry.Id,
          SenderFault: failure.senderFault,
          Code: failure.code,
          Message: `injected ${failure.code}`,
        })),
      ];
      output.Successful = (output.Successful ?? []).filter((entry) =>
        refused.every((gone) => gone.Id !== entry.Id),
      );
      return result as Awaited<ReturnType<typeof next>>;
    },
    { step: 'initialize', name: 'testFailEntries' },
  );
}

/** Makes the first `times` SendMessageBatch calls fail with a throttling error, without sending them. */
function throttleCalls(client: SQSClient, times = 1): void {
  let remaining = times;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'SendMessageBatchCommand' || remaining <= 0) return next(args);
      remaining -= 1;
      throw new SQSServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded',
      });
    },
    { step: 'initialize', name: 'testThrottleCalls' },
  );
}

/** A `sleep` that returns at once and remembers the delays asked for. */
function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}

/** Drains the queue and checks that it held every one of `messages` exactly once, in any order. */
async function expectEachArrivedOnce(queueUrl: string, messages: readonly OutgoingMessage[]): Promise<void> {
  expect((await drainBodies(sqs, queueUrl, { expected: messages.length })).sort()).toEqual(
    bodiesOf(messages).sort(),
  );
}

async function messagesInQueue(queueUrl: string): Promise<number> {
  const { Attributes: attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return Object.values(attributes).reduce((sum, count) => sum + Number(count), 0);
}

describe('sendMessageBatches', () => {
  it('delivers 95 messages of assorted sizes exactly once and in order to a FIFO queue', async () => {
    // Prepare
    const { queueUrl } = await createQueueWithDeadLetterQueue(sqs, { fifo: true });
    const messages = outgoingMessages(95, {
      bytes: (index) => 1 + ((index * 7_919) % 100_000) + 20,
      wide: (index) => index % 3 === 0,
      groupId: 'orders',
    });

    // Act
    const result = await sendMessageBatches(sqs, queueUrl, messages);

    // Assess
    expect(result.acceptedIds).toEqual(idsOf(messages));
    expect(result.failed).toEqual([]);
    expect(result.unsentIds).toEqual([]);
    expect(result.calls).toBe(10);
    expect(result.payloadBytes).toBe(
      messages.reduce((sum, message) => sum + Buffer.byteLength(message.body), 0),
    );
    expect(await drainBodies(sqs, queueUrl, { expected: messages.length })).toEqual(bodiesOf(messages));
  });

  it('sends ~300 KB messages three to a call, never more than 1 MiB in one call', async () => {
    // Prepare
    const client = sqsClient();
    const calls = recordCalls(client);
    const { queueUrl } = await createQueueWithDeadLetterQueue(sqs);
    const messages = outgoingMessages(10, { bytes: () => 300_000 });

    // Act
    const result = await sendMessageBatches(client, queueUrl, messages);

    // Assess
    expect(result.acceptedIds).toEqual(idsOf(messages));
    expect(result.calls).toBe(4);
    expect(calls.map((entries) => entries.length)).toEqual([3, 3, 3, 1]);
    for (const entries of calls) expect(callBytes(entries)).toBeLessThanOrEqual(MAX_BATCH_PAYLOAD_BYTES);
    expect(result.payloadBytes).toBe(3_000_000);
    expect(result.billedRequests).toBe(3 * 14 + 5);
    await expectEachArrivedOnce(queueUrl, messages);
  });

  it('fills a call up to exactly 1 MiB and at most 10 entries', async () => {
    // Prepare
    const client = sqsClient();
    const calls = recordCalls(client);
    const { queueUrl } = await createQueueWithDeadLetterQueue(sqs);
    const quarter = MAX_BATCH_PAYLOAD_BYTES / 4;
    const messages = [
      ...outgoingMessages(5, { bytes: () => quarter }),
      ...outgoingMessages(25).map((message, index) => ({ ...message, id: `small-${index}` })),
    ];

    // Act
    const result = await sendMessageBatches(client, queueUrl, messages);

    // Assess
    expect(result.failed).toEqual([]);
    expect(calls.map((entries) => entries.length)).toEqual([4, 10, 10, 6]);
    expect(callBytes(calls[0] ?? [])).toBe(MAX_BATCH_PAYLOAD_BYTES);
    await expectEachArrivedOnce(queueUrl, messages);
  });

  it('sends again, alone, the entries SQS failed on its side, and every message arrives once', async () => {
    // Prepare
    const client = sqsClient();
    const calls = recordCalls(client);
    const { queueUrl } = await createQueueWithDeadLetterQueue(sqs);
    const messages = outgoingMessages(12);
    const refused = [messages[2]?.body ?? '', messages[5]?.body ?? ''];
    failEntries(client, { bodies: refused, senderFault: false, code: 'InternalError' });
    const { sleep, delays } = recordingSleep();

    // Act
    const result = await sendMessageBatches(client, queueUrl, messages, { sleep, initialDelayMs: 7 });

    // Assess
    expect(result.acceptedIds).toEqual(idsOf(messages));
    expect(result.failed).toEqual([]);
    expect(result.calls).toBe(3);
    expect(calls.map((entries) => entries.map((entry) => entry.MessageBody))).toEqual([
      bodiesOf(messages.slice(0, 10)),
      refused,
      bodiesOf(messages.slice(10)),
    ]);
    expect(delays).toEqual([7]);
    await expectEachArrivedOnce(queueUrl, messages);
  });

  it('fails when SQS keeps failing an entry on its side: gives up after maxAttempts and sends nothing later', async () => {
    // Prepare
    const client = sqsClient();
    const { queueUrl } = await createQueueWithDeadLetterQueue(sqs);
    const messages = outgoingMessages(15);
    failEntries(client, {
      bodies: [messages[3]?.body ?? ''],
      senderFault: false,
      code: 'InternalError',
      times: Number.POSITIVE_INFINITY,
    });
    const { sleep, delays } = recordingSleep();

    // Act
    const result = await sendMessageBatches(client, queueUrl, messages, {
      sleep,
      maxAttempts: 3,
      initialDelayMs: 10,
      maxDelayMs: 15,
    });

    // Assess
    expect(result.acceptedIds).toEqual(idsOf(messages.slice(0, 3)));
    expect(result.failed).toEqual([
      {
        id: 'm-3',
        code: 'InternalError',
        message: 'injected InternalError (gave up after 3 attempt(s))',
        senderFault: false,
        attempts: 3,
      },
    ]);
    expect(result.acceptedAfterFailureIds).toEqual(idsOf(messages.slice(4, 10)));
    expect(result.unsentIds).toEqual(idsOf(messages.slice(10)));
    expect(result.calls).toBe(3);
    expect(delays).toEqual([10, 15]);
    expect((await drainBodies(sqs, queueUrl, { expected: 9 })).sort()).toEqual(
      bodiesOf([...messages.slice(0, 3), ...messages.slice(4, 10)]).sort(),
    );
  });

  it('fails when SQS refuses an entry as the sender’s fault: stops there and reports the accepted prefix', async () => {
    // Prepare
    const client = sqsClient();
    const { queueUrl } = await createQueueWithDeadLetterQueue(sqs);
    const messages = outgoingMessages(25);
    failEntries(client, {
      bodies: [messages[13]?.body ?? ''],
      senderFault: true,
      code: 'InvalidParameterValue',
    });
    const { sleep, delays } = recordingSleep();

    // Act
    const result = await sendMessageBatches(client, queueUrl, messages, { sleep });

    // Assess
    expect(result.acceptedIds).toEqual(idsOf(messages.slice(0, 13)));
    expect(result.failed).toEqual([
      {
        id: 'm-13',
        code: 'InvalidParameterValue',
        message: 'injected InvalidParameterValue',
        senderFault: true,
        attempts: 1,
      },
    ]);
    expect(result.acceptedAfterFailureIds).toEqual(idsOf(messages.slice(14, 20)));
    expect(result.unsentIds).toEqual(idsOf(messages.slice(20)));
    expect(result.calls).toBe(2);
    expect(delays).toEqual([]);
    const landed = await drainBodies(sqs, queueUrl, { expected: 19 });
    expect(landed.sort()).toEqual(bodiesOf([...messages.slice(0, 13), ...messages.slice(14, 20)]).sort());
  });

  it('fails with a SendMessagesError carrying the accepted prefix when throwOnFailure is set', async () => {
    // Prepare
    const client = sqsClient();
    const { queueUrl } = await createQueueWithDeadLetterQueue(sqs);
    const messages = outgoingMessages(25);
    failEntries(client, {
      bodies: [messages[13]?.body ?? ''],
      senderFault: true,
      code: 'InvalidParameterValue',
    });

    // Act
    const sending = sendMessageBatches(client, queueUrl, messages, { throwOnFailure: true });

    // Assess
    const error = await sending.catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(SendMessagesError);
    const failure = error as SendMessagesError;
    expect(failure.name).toBe('SendMessagesError');
    expect(failure.queueUrl).toBe(queueUrl);
    expect(failure.acceptedIds).toEqual(idsOf(messages.slice(0, 13)));
    expect(failure.failedIds).toEqual(['m-13']);
    expect(failure.unsentIds).toEqual(idsOf(messages.slice(20)));
    expect(failure.failures['m-13']).toEqual({
      code: 'InvalidParameterValue',
      message: 'injected InvalidParameterValue',
      senderFault: true,
    });
    expect(failure.message).toContain(queueUrl);
    expect(failure.message).toMatch(/^6 message\(s\) not accepted.*"m-13": InvalidParameterValue/);
  });

  it('sends a throttled call again and delivers every message once', async () => {
    // Prepare
    const client = sqsClient();
    const { queueUrl } = await createQueueWithDeadLetterQueue(sqs);
    const messages = outgoingMessages(5);
    throttleCalls(client, 2);
    const { sleep, delays } = recordingSleep();

    // Act
    const result = await sendMessageBatches(client, queueUrl, messages, { sleep, initialDelayMs: 1 });

    // Assess
    expect(result.acceptedIds).toEqual(idsOf(messages));
    expect(result.calls).toBe(3);
    expect(delays).toEqual([1, 2]);
    await expectEachArrivedOnce(queueUrl, messages);
  });

  it('fails when every call is throttled: gives up after maxAttempts with the last error as cause', async () => {
    // Prepare
    const client = sqsClient();
    const { queueUrl } = await createQueueWithDeadLetterQueue(sqs);
    const messages = outgoingMessages(12);
    throttleCalls(client, Number.POSITIVE_INFINITY);
    const { sleep, delays } = recordingSleep();

    // Act
    const error = await sendMessageBatches(client, queueUrl, messages, {
      sleep,
      maxAttempts: 4,
      throwOnFailure: true,
    }).catch((thrown: unknown) => thrown);

    // Assess
    expect(error).toBeInstanceOf(SendMessagesError);
    const failure = error as SendMessagesError;
    expect(failure.acceptedIds).toEqual([]);
    expect(failure.failedIds).toEqual(idsOf(messages.slice(0, 10)));
    expect(failure.unsentIds).toEqual(['m-10', 'm-11']);
    expect(failure.failures['m-0']?.message).toBe('Rate exceeded (gave up after 4 attempt(s))');
    expect(failure.cause).toMatchObject({ name: 'ThrottlingException' });
    expect(delays).toEqual([100, 200, 400]);
    expect(await messagesInQueue(queueUrl)).toBe(0);
  });

  it('fails at once when the queue does not exist, naming the queue URL', async () => {
    // Prepare
    const { queueUrl: existing } = await createQueueWithDeadLetterQueue(sqs);
    const queueUrl = existing.replace(/[^/]+$/, uniqueName('missing'));
    const messages = outgoingMessages(12);
    const { sleep, delays } = recordingSleep();

    // Act
    const result = await sendMessageBatches(sqs, queueUrl, messages, { sleep });
    const thrown = await sendMessageBatches(sqs, queueUrl, messages, { sleep, throwOnFailure: true }).catch(
      (error: unknown) => error,
    );

    // Assess
    expect(result.calls).toBe(1);
    expect(delays).toEqual([]);
    expect(result.acceptedIds).toEqual([]);
    expect(result.failed.map((failure) => failure.id)).toEqual(idsOf(messages.slice(0, 10)));
    expect(result.failed[0]).toMatchObject({ code: 'QueueDoesNotExist', senderFault: true, attempts: 1 });
    expect(result.unsentIds).toEqual(['m-10', 'm-11']);
    expect(thrown).toBeInstanceOf(SendMessagesError);
    expect((thrown as SendMessagesError).message).toContain(queueUrl);
    expect((thrown as SendMessagesError).message).toContain('QueueDoesNotExist');
    expect((thrown as SendMessagesError).cause).toMatchObject({ name: 'QueueDoesNotExist' });
  });

  it('makes up to callsInFlight calls at once, and every message arrives once', async () => {
    // Prepare
    const client = sqsClient();
    const { queueUrl } = await createQueueWithDeadLetterQueue(sqs);
    const messages = outgoingMessages(60);
    const held = holdSendMessageBatchCalls(client, () => 50);

    // Act
    const result = await sendMessageBatches(client, queueUrl, messages, { callsInFlight: 3 });

    // Assess
    expect(result.acceptedIds).toEqual(idsOf(messages));
    expect(result.calls).toBe(6);
    expect(held.peak()).toBe(3);
    await expectEachArrivedOnce(queueUrl, messages);
  });

  it('starts no call after a final failure with callsInFlight, and reports what a call under way landed', async () => {
    // Prepare: the second call fails at once while the first is still under way
    const client = sqsClient();
    const { queueUrl } = await createQueueWithDeadLetterQueue(sqs);
    const messages = outgoingMessages(50);
    const refused = messages[13]?.body ?? '';
    failEntries(client, { bodies: [refused], senderFault: true, code: 'InvalidParameterValue' });
    holdSendMessageBatchCalls(client, (entries) =>
      entries.some((entry) => entry.MessageBody === refused) ? 0 : 200,
    );

    // Act
    const result = await sendMessageBatches(client, queueUrl, messages, { callsInFlight: 2 });

    // Assess
    expect(result.acceptedIds).toEqual(idsOf(messages.slice(0, 13)));
    expect(result.failed.map((failure) => failure.id)).toEqual(['m-13']);
    expect(result.acceptedAfterFailureIds).toEqual(idsOf(messages.slice(14, 20)));
    expect(result.unsentIds).toEqual(idsOf(messages.slice(20)));
    expect(result.calls).toBe(2);
    const landed = await drainBodies(sqs, queueUrl, { expected: 19 });
    expect(landed.sort()).toEqual(bodiesOf([...messages.slice(0, 13), ...messages.slice(14, 20)]).sort());
  });

  it('returns an empty result and makes no call for no messages', async () => {
    // Prepare
    const client = sqsClient();
    const calls = recordCalls(client);
    const { queueUrl } = await createQueueWithDeadLetterQueue(sqs);

    // Act
    const result = await sendMessageBatches(client, queueUrl, []);

    // Assess
    expect(result).toEqual({
      acceptedIds: [],
      failed: [],
      unsentIds: [],
      acceptedAfterFailureIds: [],
      calls: 0,
      payloadBytes: 0,
      billedRequests: 0,
    });
    expect(calls).toEqual([]);
  });

  describe('fails before sending anything', () => {
    const valid = outgoingMessages(12);
    const cases: {
      name: string;
      messages: OutgoingMessage[];
      options?: Record<string, unknown>;
      error: new (...args: never[]) => Error;
      message: RegExp;
    }[] = [
      {
        name: 'fails when two messages share an id',
        messages: [...valid, { id: 'm-4', body: 'again' }],
        error: ValidationError,
        message: /message id "m-4" appears more than once/,
      },
      {
        name: 'fails when a message is over 1 MiB counting its attributes',
        messages: [
          ...valid,
          {
            id: 'huge',
            body: 'x'.repeat(1_048_570),
            attributes: { trace: { DataType: 'String', StringValue: 'abc' } },
          },
        ],
        error: TooLargeError,
        message: /message "huge" is 1048584 bytes .* limit of 1048576 bytes/,
      },
      {
        name: 'fails when delaySeconds is 901',
        messages: [...valid, { id: 'late', body: 'later', delaySeconds: 901 }],
        error: ValidationError,
        message: /message "late": delaySeconds must be a whole number from 0 to 900 \(given 901\)/,
      },
      {
        name: 'fails when an option is unknown',
        messages: valid,
        options: { retries: 3 },
        error: ValidationError,
        message: /unknown option "retries"/,
      },
      {
        name: 'fails when messages with a groupId are to be sent several calls at once',
        messages: outgoingMessages(12, { groupId: 'orders' }),
        options: { callsInFlight: 2 },
        error: ValidationError,
        message:
          /message "m-0" has a groupId, so its calls must land one after another: callsInFlight must be 1 \(given 2\)/,
      },
      {
        name: 'fails when callsInFlight is out of range',
        messages: valid,
        options: { callsInFlight: 11 },
        error: ValidationError,
        message: /callsInFlight must be a whole number from 1 to 10 \(given 11\)/,
      },
      {
        name: 'fails when maxAttempts is out of range',
        messages: valid,
        options: { maxAttempts: 0, initialDelayMs: -1 },
        error: ValidationError,
        message:
          /maxAttempts must be a whole number from 1 to 100 \(given 0\); initialDelayMs .*\(given -1\)/,
      },
    ];

    it.each(cases)('$name', async ({ messages, options, error, message }) => {
      // Prepare
      const client = sqsClient();
      const calls = recordCalls(client);
      const { queueUrl } = await createQueueWithDeadLetterQueue(sqs);

      // Act
      const sending = sendMessageBatches(client, queueUrl, messages, options);

      // Assess
      await expect(sending).rejects.toThrow(error);
      await expect(sending).rejects.toThrow(message);
      expect(calls).toEqual([]);
      expect(await messagesInQueue(queueUrl)).toBe(0);
    });

    it('fails when a message is too large, with its id and sizes on the error', async () => {
      // Prepare
      const messages = [{ id: 'huge', body: 'é'.repeat(524_289) }];

      // Act
      const error = await sendMessageBatches(sqs, 'https://sqs.example/1/q', messages).catch(
        (thrown: unknown) => thrown,
      );

      // Assess
      expect(error).toMatchObject({ constructor: TooLargeError, what: 'message' });
      expect(error).toMatchObject({
        name: 'TooLargeError',
        messageId: 'huge',
        sizeBytes: 1_048_578,
        limitBytes: 1_048_576,
      });
    });
  });
});
