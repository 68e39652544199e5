import { describe, expect, inject, it } from 'vitest';
import { EventLog, LaggingConsumerError, positionAfterEvent } from '../../lib';
import { guardedCommit } from '../../lib/stages/consumer-lag';
import { PipelineStore } from '../../lib/state/pipeline-store';
import { createStreamTable, dynamodbClient, uniqueName } from '../support/aws';

describe('guardedCommit', () => {
  it('refuses a commit while the slowest consumer lags beyond the bound, and accepts it once it caught up', async () => {
    // Prepare
    const client = dynamodbClient();
    const events = await createStreamTable(client);
    const state = await createStreamTable(client);
    try {
      const eventLog = new EventLog({ tableName: events.name, client });
      const store = new PipelineStore({ tableName: state.name, client });
      const stream = uniqueName('orders');
      const queueUrl = `${inject('sqsEndpoint')}/000000000000/unused`;
      await store.putPipeline({ name: uniqueName('fast'), stream, queueUrl, start: 'latest' });
      const slow = uniqueName('slow');
      await store.putPipeline({ name: slow, stream, queueUrl, start: 'earliest' });
      await store.putPipeline({
        name: uniqueName('other'),
        stream: uniqueName('other'),
        queueUrl,
        start: 'earliest',
      });
      const first = (await eventLog.commit({ stream, type: 'order.placed', data: { n: 1 } })) as string;

      // Act
      const refused = await guardedCommit(
        eventLog,
        store,
        { stream, type: 'order.placed', data: { n: 2 } },
        {
          maxLagMs: 60_000,
        },
      ).catch((error: unknown) => error);
      const countWhileRefused = (await eventLog.range(stream, { limit: 10 })).events.length;
      await store.seek(slow, positionAfterEvent(first), { reason: 'caught up' });
      const accepted = await guardedCommit(
        eventLog,
        store,
        [{ stream, type: 'order.placed', data: { n: 3 } }],
        {
          maxLagMs: 60_000,
        },
      );

      // Assess
      expect(refused).toBeInstanceOf(LaggingConsumerError);
      expect((refused as LaggingConsumerError).pipeline).toBe(slow);
      expect((refused as LaggingConsumerError).stream).toBe(stream);
      expect((refused as LaggingConsumerError).lagMs).toBeGreaterThan(60_000);
      expect(countWhileRefused).toBe(1);
      expect(accepted).toHaveLength(1);
      expect((await eventLog.range(stream, { limit: 10 })).events.map((event) => event.data)).toEqual([
        { n: 1 },
        { n: 3 },
      ]);
    } finally {
      await Promise.all([events.drop(), state.drop()]);
      client.destroy();
    }
  });
});
