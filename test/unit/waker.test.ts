import { LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { lambdaWake } from '../../lib/wake/lambda-wake';
import { type WakeRoute, wokenRunOptionsOf } from '../../lib/wake/wake-routes';
import { type LogStreamRecord, Waker } from '../../lib/wake/waker';

const ID_A = '01930000-0000-7000-8000-000000000001';
const ID_B = '01930000-0000-7000-8000-000000000002';

const route = (stream: string, pipeline: string): WakeRoute => ({
  stream,
  pipeline,
  target: `${pipeline}-fetcher`,
  untilIdleMs: 1_000,
});
const insert = (pk: string, sk: string): LogStreamRecord => ({
  eventName: 'INSERT',
  dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } } },
});

function wakerWith(routes: WakeRoute[]) {
  let now = 0;
  const calls: { pipeline: string; readThrough?: string }[] = [];
  const waker = new Waker({
    routes,
    clock: () => now,
    wake: async (woken, readThrough) => {
      if (woken.pipeline === 'broken') throw new Error('Rate exceeded');
      calls.push({ pipeline: woken.pipeline, ...(readThrough ? { readThrough } : {}) });
    },
  });
  return { waker, calls, advance: (ms: number) => (now += ms) };
}

describe('Waker', () => {
  it('wakes every pipeline of the streams that received events, to read through the newest id', async () => {
    // Prepare
    const { waker, calls } = wakerWith([
      route('orders', 'billing'),
      route('orders', 'shipping'),
      route('refunds', 'audit'),
    ]);

    // Act
    const outcome = await waker.onRecords([
      insert('e#orders#2026120507#0', ID_B),
      insert('e#orders#2026120507#1', ID_A),
      insert('b#orders', '2026120507'),
      { eventName: 'MODIFY', dynamodb: { Keys: { pk: { S: 'e#refunds#2026120507#0' }, sk: { S: ID_A } } } },
    ]);

    // Assess
    expect([...outcome.woken].sort()).toEqual(['billing', 'shipping']);
    expect(calls).toContainEqual({ pipeline: 'billing', readThrough: ID_B });
    expect(calls).toHaveLength(2);
  });

  it('wakes a pipeline again within its interval only for an id newer than the run it started reads', async () => {
    // Prepare
    const { waker, calls, advance } = wakerWith([route('orders', 'billing')]);
    await waker.onRecords([insert('e#orders#2026120507#0', ID_B)]);

    // Act
    advance(100);
    const older = await waker.onRecords([insert('e#orders#2026120507#0', ID_A)]);
    const newer = await waker.onRecords([insert('e#orders#2026120507#0', `${ID_B.slice(0, -1)}3`)]);
    advance(1_000);
    const later = await waker.onRecords([insert('e#orders#2026120507#0', ID_A)]);

    // Assess
    expect(older).toMatchObject({ woken: [], skipped: ['billing'] });
    expect(newer.woken).toEqual(['billing']);
    expect(later.woken).toEqual(['billing']);
    expect(calls).toHaveLength(3);
  });

  it('leaves the events to a run holding the lease that will read them, and wakes when that cannot be told', async () => {
    // Prepare
    const calls: string[] = [];
    const asked: string[] = [];
    const waker = new Waker({
      routes: [route('orders', 'billing'), route('orders', 'shipping'), route('orders', 'audit')],
      wake: async (woken) => void calls.push(woken.pipeline),
      leftToHolder: async (asking) => {
        asked.push(asking.pipeline);
        if (asking.pipeline === 'audit') throw new Error('ProvisionedThroughputExceededException');
        return asking.pipeline === 'billing';
      },
    });

    // Act
    const outcome = await waker.onRecords([insert('e#orders#2026120507#0', ID_B)]);

    // Assess
    expect(outcome.leftToHolder).toEqual(['billing']);
    expect([...outcome.woken].sort()).toEqual(['audit', 'shipping']);
    expect(calls.sort()).toEqual(['audit', 'shipping']);
    expect(asked.sort()).toEqual(['audit', 'billing', 'shipping']);
  });

  it('reports a wake-up that failed and tries it again with the next records', async () => {
    // Prepare
    const { waker } = wakerWith([route('orders', 'broken')]);

    // Act
    const first = await waker.onRecords([insert('e#orders#2026120507#0', ID_A)]);
    const second = await waker.onRecords([insert('e#orders#2026120507#0', ID_A)]);

    // Assess
    expect(first.failed.map(({ pipeline, error }) => [pipeline, error.message])).toEqual([
      ['broken', 'Rate exceeded'],
    ]);
    expect(second.failed).toHaveLength(1);
  });

  it('refuses a minIntervalMs that is not a duration, naming it', () => {
    expect(() => new Waker({ routes: [], wake: async () => {}, minIntervalMs: -5 })).toThrow(
      'minIntervalMs must be 0 or more milliseconds (given -5)',
    );
  });
});

describe('lambdaWake', () => {
  it('invokes the route’s fetcher asynchronously with the id to read through, as the fetcher reads it back', async () => {
    // Prepare: no Lambda emulator here, so the request is caught at the end of the SDK's own stack
    const client = new LambdaClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    const sent: { FunctionName?: string; InvocationType?: string; Payload?: Uint8Array }[] = [];
    client.middlewareStack.add(
      (_next, context) => async (args) => {
        if (context.commandName === 'InvokeCommand') sent.push(args.input as (typeof sent)[number]);
        return { output: { StatusCode: 202, $metadata: {} }, response: {} };
      },
      { step: 'initialize', name: 'captureInvoke' },
    );

    // Act
    await lambdaWake(client)(route('orders', 'billing'), ID_B);
    await lambdaWake(client)(route('orders', 'billing'));

    // Assess
    expect(sent.map(({ FunctionName, InvocationType }) => ({ FunctionName, InvocationType }))).toEqual([
      { FunctionName: 'billing-fetcher', InvocationType: 'Event' },
      { FunctionName: 'billing-fetcher', InvocationType: 'Event' },
    ]);
    const events = sent.map((input) => JSON.parse(new TextDecoder().decode(input.Payload)));
    expect(events[0]).toEqual({
      source: 'sluice.wake',
      pipeline: 'billing',
      untilIdleMs: 1_000,
      readThrough: ID_B,
    });
    expect(wokenRunOptionsOf(events[0])).toEqual({ untilIdleMs: 1_000, readThrough: ID_B });
    expect(wokenRunOptionsOf(events[1])).toEqual({ untilIdleMs: 1_000 });
  });
});
