import { expect, inject, it } from 'vitest';
import { startLocalPipeline } from '../../lib/local';
import { uniqueName } from '../support/aws';

it('runs a worker module unchanged, configured only by the environment Lambda would give it', async () => {
  const stream = uniqueName('orders');
  const local = await startLocalPipeline({
    endpoints: { dynamodb: inject('dynamodbEndpoint'), sqs: inject('sqsEndpoint') },
    eventLogTable: uniqueName('events'),
    stateTable: uniqueName('state'),
    pipeline: { name: uniqueName('module'), stream, start: 'earliest' },
    workerModule: { path: 'test/fixtures/recording-worker.ts' },
    failedHandler: () => undefined,
    fetcherIntervalMs: 500,
    fetcherTimeoutSeconds: 3,
  });
  try {
    const ids = await local.eventLog.commit(
      Array.from({ length: 30 }, (_, n) => ({ stream, type: 'order.placed', data: { n } })),
    );
    await local.waitForIdle({ timeoutMs: 30_000 });
    const handled = (globalThis as { recordingWorkerHandled?: Set<string> }).recordingWorkerHandled;
    expect(ids.every((id) => handled?.has(id))).toBe(true);
    expect(local.stats().worker.invocations).toBeGreaterThan(0);
  } finally {
    await local.stop();
  }
});
