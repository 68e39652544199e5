import { Readable } from 'node:stream';
import { describe, expect, inject, it } from 'vitest';
import { runCli } from '../../cli/program';
import { createWorker, type FailedEvent, NonRetryableError } from '../../lib';
import { redriveDeadLetters } from '../../lib/failed/redrive';
import { redriveFailures } from '../../lib/failed/redrive-failures';
import { startLocalPipeline } from '../../lib/local';
import { sqsClient, uniqueName } from '../support/aws';
import { drainQueue } from '../support/pipeline-fixture';

type Order = { n: number };
const EVENT_COUNT = 10;

/** Runs `sluice` in-process against the local pipeline's emulators and state table. */
async function sluice(args: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([]),
    env,
  });
  return { code, stdout, stderr };
}

describe('redriving from failure records, in the standard wiring', () => {
  it('sends handed-over events back for a fresh start, once, with sluice redrive and dry runs', async () => {
    // Prepare: every event fails for good and is handed over; the failed-event function empties the DLQ.
    const broken = { on: true };
    const effects = new Map<number, number>();
    const handedOver: FailedEvent<Order>[] = [];
    const stream = uniqueName('orders');
    const stateTable = uniqueName('state');
    const pipeline = uniqueName('billing');
    const local = await startLocalPipeline({
      endpoints: { dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') },
      eventLogTable: uniqueName('events'),
      stateTable,
      pipeline: { name: pipeline, stream, start: 'earliest' },
      workerFactory: (resources) =>
        createWorker<Order>(
          {
            pipeline: resources.pipeline,
            stateTable: resources.stateTable,
            queueUrl: resources.queueUrl,
            deadLetterQueueUrl: resources.deadLetterQueueUrl,
            sqs: resources.sqs,
            dynamodb: resources.dynamodb,
            handle: async (event) => {
              if (broken.on) throw new NonRetryableError(`order ${event.data.n} is broken`);
              effects.set(event.data.n, (effects.get(event.data.n) ?? 0) + 1);
            },
          },
          {},
        ),
      failedHandler: (failures) => void handedOver.push(...(failures as FailedEvent<Order>[])),
      fetcherIntervalMs: 300,
      fetcherTimeoutSeconds: 3,
      fetcherPollIntervalMs: 100,
    });
    const env = {
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
      AWS_ENDPOINT_URL_SQS: inject('sqsEndpoint'),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      SLUICE_STATE_TABLE: stateTable,
    };

    try {
      for (let n = 0; n < EVENT_COUNT; n += 1)
        await local.eventLog.commit({ stream, type: 'order.placed', data: { n } });
      await local.waitForIdle({ timeoutMs: 60_000 });
      broken.on = false;
      const sqs = sqsClient();
      const fromQueue = await redriveDeadLetters({
        sqs,
        deadLetterQueueUrl: local.deadLetterQueueUrl,
        queueUrl: local.queueUrl,
        dryRun: true,
        waitTimeSeconds: 0,
      });

      // Act
      const dryRun = await redriveFailures({
        store: local.failures,
        sqs,
        pipeline,
        queueUrl: local.queueUrl,
        dryRun: true,
      });
      const queuedAfterDryRun = await drainQueue(sqs, local.queueUrl);
      const cli = await sluice(['redrive', pipeline, '--rate', '100', '--json'], env);
      await local.waitForIdle({ timeoutMs: 60_000 });
      const second = await redriveFailures({
        store: local.failures,
        sqs,
        pipeline,
        queueUrl: local.queueUrl,
      });

      // Assess
      expect(handedOver).toHaveLength(EVENT_COUNT);
      expect(fromQueue.examined).toBe(0);
      expect(dryRun).toMatchObject({ examined: EVENT_COUNT, moved: EVENT_COUNT, dryRun: true });
      expect(queuedAfterDryRun).toEqual([]);
      expect(cli.stderr).toBe('');
      expect(cli.code).toBe(0);
      expect(JSON.parse(cli.stdout)).toMatchObject({ source: 'records', moved: EVENT_COUNT, pending: 0 });
      expect([...effects.keys()].sort((a, b) => a - b)).toEqual(
        Array.from({ length: EVENT_COUNT }, (_, n) => n),
      );
      expect([...effects.values()].every((count) => count === 1)).toBe(true);
      expect(second).toMatchObject({ moved: 0, alreadyRedriven: EVENT_COUNT });
      const { failures } = await local.failures.listFailures(pipeline);
      expect(failures.map((record) => record.status)).toEqual(Array(EVENT_COUNT).fill('redriven'));
      expect(handedOver).toHaveLength(EVENT_COUNT);
    } finally {
      await local.stop();
    }
  }, 120_000);

  it('fails when the options are bad, naming each value', async () => {
    await expect(
      redriveFailures({
        store: undefined as never,
        sqs: undefined as never,
        pipeline: 'bad name',
        queueUrl: 'queue',
        maxMessagesPerSecond: 0,
      }),
    ).rejects.toThrow(
      /store must be a FailureStore.*sqs must be an SQSClient.*pipeline name "bad name" is invalid.*queueUrl must be an http\(s\) queue URL \(given "queue"\).*maxMessagesPerSecond must be a number above 0, at most 3000 \(given 0\)/,
    );
  });
});
