// The emulator alone, no framework: send-batch, receive and delete-batch of ten, with four receive
// loops. The local ceiling for a queue-backed system on this machine.
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { RequestMeter } from '../meter/request-meter';
import { benchEvent } from '../support/bench-events';
import { localClientConfig } from '../support/endpoints';
import { HandledTracker } from '../support/handled-tracker';
import { produceLive } from '../support/live-producer';
import { runSystemProcess, type SystemConfig, type SystemReport } from '../support/system-process';
import { waitFor } from '../support/wait-for';

const RECEIVE_LOOPS = 4;
const SENDS_IN_FLIGHT = 4;

async function runRaw(config: SystemConfig): Promise<Omit<SystemReport, 'peakRssBytes'>> {
  const meter = new RequestMeter();
  const sqs = meter.attach(new SQSClient(localClientConfig(config.endpoints.sqs)));
  meter.pause();
  const { QueueUrl: queueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `${config.prefix}-queue`, Attributes: { VisibilityTimeout: '180' } }),
  );
  meter.resume();
  const tracker = new HandledTracker({ backlog: config.events });
  // The send time stands in for the commit time: there is no log.
  const body = (n: number) => JSON.stringify({ sentAt: Date.now(), ...benchEvent(n) });

  let receiving = true;
  let inHand = 0;
  const stopReceiving = new AbortController();
  const receiveLoop = async () => {
    while (receiving) {
      try {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 }),
          { abortSignal: stopReceiving.signal },
        );
        if (Messages.length === 0) continue;
        inHand += 1;
        for (const message of Messages) {
          const parsed = JSON.parse(message.Body ?? '{}') as { sentAt: number; data: { n: number } };
          tracker.handled(parsed.data.n, parsed.sentAt);
        }
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: Messages.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle,
            })),
          }),
        );
        inHand -= 1;
      } catch (error) {
        if (receiving) console.error('receive:', error);
      }
    }
  };

  const startedAt = performance.now();
  const receivers = Array.from({ length: RECEIVE_LOOPS }, receiveLoop);
  let next = 0;
  const sendLoop = async () => {
    while (next < config.events) {
      const from = next;
      next = Math.min(config.events, next + 10);
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Array.from({ length: next - from }, (_, index) => ({
            Id: String(index),
            MessageBody: body(from + index),
          })),
        }),
      );
    }
  };
  try {
    await Promise.all(Array.from({ length: SENDS_IN_FLIGHT }, sendLoop));
    await tracker.backlogHandled;
    await waitFor(() => inHand === 0);
    const elapsedMs = performance.now() - startedAt;
    const counts = meter.counts();
    meter.pause();
    const sent = await produceLive(config.live, (n) =>
      sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: '0', MessageBody: body(n) }] }),
      ),
    );
    await tracker.liveHandled(sent, 30_000);
    const latenciesMs = tracker.latenciesMs();
    return {
      events: config.events,
      elapsedMs,
      counts,
      lambdaInvocations: 0,
      latenciesMs,
      liveMissing: sent - latenciesMs.length,
      notes: ['no Lambda, no DynamoDB: the queue alone; latency is from send, not from a commit'],
    };
  } finally {
    receiving = false;
    stopReceiving.abort();
    await Promise.all(receivers);
    sqs.destroy();
  }
}

runSystemProcess(runRaw);
