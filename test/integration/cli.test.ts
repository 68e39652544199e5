import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventLog, positionAtTime } from '../../lib';
import { envelopeBody } from '../../lib/messages/envelope';
import { sendMessageBatches } from '../../lib/sqs/send-message-batches';
import { PipelineStore } from '../../lib/state/pipeline-store';
import { EventIdGenerator } from '../../lib/time/event-id';
import { formatPosition } from '../../lib/time/position';
import { addBatchCounters } from '../../lib/worker/pipeline-counters';
import { emptyBatchStats } from '../../lib/worker/process-batch';
import {
  createQueueWithDeadLetterQueue,
  createStreamTable,
  dynamodbClient,
  sqsClient,
  uniqueName,
} from '../support/aws';
import { emulatorEnvironment, sluice as runSluice } from '../support/cli';
import { drainQueue } from '../support/pipeline-fixture';

const dynamodb = dynamodbClient();
const sqs = sqsClient();
let events: Awaited<ReturnType<typeof createStreamTable>>;
let state: Awaited<ReturnType<typeof createStreamTable>>;
let log: EventLog;
let store: PipelineStore;

beforeAll(async () => {
  [events, state] = await Promise.all([
    createStreamTable(dynamodb, 'events'),
    createStreamTable(dynamodb, 'state'),
  ]);
  log = new EventLog({ tableName: events.name, client: dynamodb });
  store = new PipelineStore({ tableName: state.name, client: dynamodb });
});

afterAll(async () => {
  await Promise.all([events.drop(), state.drop()]);
});

function environment(): Record<string, string> {
  return emulatorEnvironment({ eventLogTable: events.name, stateTable: state.name });
}

function sluice(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}) {
  return runSluice(args, {
    env: options.env ?? environment(),
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
  });
}

async function storedEvents(stream: string) {
  return (await log.range(stream, { limit: 1000 })).events;
}

describe('sluice publish', () => {
  it('commits plain JSON arguments as events of --type, with --endpoint for DynamoDB', async () => {
    const stream = uniqueName('orders');
    const { AWS_ENDPOINT_URL_DYNAMODB: _, ...env } = environment();

    const { code, stdout, stderr } = await sluice(
      [
        'publish',
        stream,
        '--type',
        'order.placed',
        '--partition-key',
        'customer-1',
        '{"orderId":"o-1"}',
        '{"orderId":"o-2"}',
        '--endpoint',
        inject('dynamodbEndpoint'),
        '--json',
      ],
      { env },
    );

    expect(stderr).toBe('');
    expect(code).toBe(0);
    const { ids } = JSON.parse(stdout) as { ids: string[] };
    const stored = await storedEvents(stream);
    expect(stored.map((event) => event.id)).toEqual(ids);
    expect(stored.map((event) => [event.type, event.data, event.partitionKey])).toEqual([
      ['order.placed', { orderId: 'o-1' }, 'customer-1'],
      ['order.placed', { orderId: 'o-2' }, 'customer-1'],
    ]);
  });

  it('commits JSON lines from stdin atomically, printing one id a line', async () => {
    const stream = uniqueName('orders');
    const lines = [
      '{"type":"order.placed","data":{"orderId":"o-1"},"partitionKey":"c-1"}',
      '',
      '{"type":"order.paid","data":{"orderId":"o-1","amount":42}}',
    ].join('\n');

    const { code, stdout } = await sluice(['publish', stream, '--atomic'], { stdin: `${lines}\n` });

    expect(code).toBe(0);
    const ids = stdout.trim().split('\n');
    const stored = await storedEvents(stream);
    expect(stored.map((event) => event.id)).toEqual(ids);
    expect(stored.map((event) => event.type)).toEqual(['order.placed', 'order.paid']);
    expect(stored[0]?.partitionKey).toBe('c-1');
  });

  it('commits the lines of --file', async () => {
    const stream = uniqueName('orders');
    const directory = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
    const file = join(directory, 'events.jsonl');
    await writeFile(file, '{"orderId":"o-1"}\n{"orderId":"o-2"}\n{"orderId":"o-3"}\n');

    const { code, stdout } = await sluice([
      'publish',
      stream,
      '--type',
      'order.placed',
      '--file',
      file,
      '--json',
    ]);
    await rm(directory, { recursive: true });

    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { ids: string[] }).ids).toHaveLength(3);
    expect((await storedEvents(stream)).map((event) => event.data)).toEqual([
      { orderId: 'o-1' },
      { orderId: 'o-2' },
      { orderId: 'o-3' },
    ]);
  });

  it('fails when a line is not valid JSON, naming the line, and commits nothing', async () => {
    const stream = uniqueName('orders');
    const lines = [
      '{"type":"order.placed","data":{}}',
      '{"type":"order.placed","data":',
      '{"type":"x","data":1}',
    ];

    const { code, stdout, stderr } = await sluice(['publish', stream], { stdin: lines.join('\n') });

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe('error: line 2 of stdin is not valid JSON: Unexpected end of JSON input\n');
    expect(await storedEvents(stream)).toEqual([]);
  });

  it('fails when a line is an event with an invalid type, naming the line', async () => {
    const stream = uniqueName('orders');

    const { code, stderr } = await sluice(['publish', stream], {
      stdin: '{"type":"ok","data":1}\n{"type":"bad type","data":2}\n',
    });

    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: line 2 of stdin: event type name "bad type" is invalid/);
    expect(await storedEvents(stream)).toEqual([]);
  });
});

describe('sluice status', () => {
  it('shows position, lag, backlog, DLQ depth, lease owner and last run of a pipeline', async () => {
    const queue = await createQueueWithDeadLetterQueue(sqs);
    const name = uniqueName('billing');
    const start = '2024-05-01T12:30:00Z';
    await store.putPipeline({ name, stream: 'orders', queueUrl: queue.queueUrl, start: { time: start } });
    const body = (index: number) => ({ id: String(index), body: `message ${index}` });
    await sendMessageBatches(sqs, queue.queueUrl, [body(0), body(1), body(2)], { throwOnFailure: true });
    await sendMessageBatches(sqs, queue.deadLetterQueueUrl, [body(3), body(4)], { throwOnFailure: true });
    const lease = await store.acquireLease(name, 'fetcher-test', 60_000);
    const run = await store.startRun(lease!);
    const counts = {
      eventsRead: 7,
      eventsSent: 7,
      messagesSent: 3,
      bytesSent: 900,
      pages: 1,
      checkpoints: 1,
    };
    const ended = await store.endRun(run, { counts, stopReason: 'caught up' });
    // Two workers' batches, added at once: 3 + 2 handled at 100 ms and 200 ms each, 1 failure.
    await Promise.all([
      addBatchCounters(
        dynamodb,
        state.name,
        name,
        { ...emptyBatchStats(2), succeeded: 3, latencyMsTotal: 300 },
        1,
      ),
      addBatchCounters(
        dynamodb,
        state.name,
        name,
        { ...emptyBatchStats(2), succeeded: 2, failed: 1, latencyMsTotal: 400 },
        2,
      ),
    ]);

    const { code, stdout, stderr } = await sluice(['status', name, '--json']);

    expect(stderr).toBe('');
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    const position = formatPosition(positionAtTime(new Date(start)));
    expect(rows[0]).toMatchObject({
      pipeline: name,
      stream: 'orders',
      status: 'running',
      position,
      queueUrl: queue.queueUrl,
      backlog: 3,
      bufferSize: 1000,
      pressure: 0.003,
      halted: null,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      deadLetters: 2,
      leaseOwner: 'fetcher-test',
      lastRun: { status: 'finished', endedAt: ended.endedAt, eventsSent: 7, stopReason: 'caught up' },
      counters: { handled: 5, failed: 1, deadLettered: 0, averageLatencyMs: 140 },
      problems: [],
    });
    const lagMs = rows[0]?.lagMs as number;
    expect(lagMs).toBeGreaterThan(Date.now() - Date.parse(start) - 60_000);
    expect(lagMs).toBeLessThanOrEqual(Date.now() - Date.parse(start));

    const table = await sluice(['status', name]);
    expect(table.code).toBe(0);
    expect(Math.max(...table.stdout.split('\n').map((line) => line.length))).toBeLessThanOrEqual(100);
    expect(table.stdout).toContain('Lease owner');
    expect(table.stdout).toContain(name);
    expect(table.stdout).toContain(position);
    expect(table.stdout).toContain('finished');
    expect(table.stdout).toContain('Latency');
  });

  it('shows a halted stage with its reason', async () => {
    const queue = await createQueueWithDeadLetterQueue(sqs);
    const name = uniqueName('orders.load');
    await store.putPipeline({ name, stream: 'orders.transform', queueUrl: queue.queueUrl, bufferSize: 4 });
    await store.haltPipeline(name, 'stage load aborted on event e-1: warehouse down');

    const { code, stdout } = await sluice(['status', name, '--json']);
    const table = await sluice(['status', name]);

    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as Record<string, unknown>[];
    expect(rows[0]).toMatchObject({
      enabled: false,
      bufferSize: 4,
      pressure: 0,
      halted: { reason: 'stage load aborted on event e-1: warehouse down' },
    });
    expect(table.stdout).toContain(`${name} (halted)`);
    expect(table.stdout).toContain('is halted since');
    expect(table.stdout).toContain('warehouse down');
  });

  it('exits 1 when it marks a pipeline (!), naming it', async () => {
    // Prepare: SQS calls sent to DynamoDB Local, as a single --endpoint does against sluice dev.
    const queue = await createQueueWithDeadLetterQueue(sqs);
    const name = uniqueName('billing');
    await store.putPipeline({ name, stream: 'orders', queueUrl: queue.queueUrl });
    const { AWS_ENDPOINT_URL_SQS: _, ...env } = environment();

    // Act
    const { code, stdout, stderr } = await sluice(
      ['status', name, '--sqs-endpoint', inject('dynamodbEndpoint')],
      { env },
    );

    // Assess
    expect(code).toBe(1);
    expect(stdout).toContain(`${name} (!)`);
    expect(stderr).toContain(`warning: ${name}: queue ${queue.queueUrl}`);
    expect(stderr).toContain(`error: 1 pipeline(s) with a problem: '${name}'`);
  });

  it('fails when a pipeline asked for is not registered', async () => {
    const { code, stderr } = await sluice(['status', 'no-such-pipeline']);

    expect(code).toBe(1);
    expect(stderr).toBe(`error: no pipeline named 'no-such-pipeline' in state table '${state.name}'\n`);
  });
});

describe('sluice seek', () => {
  async function registeredPipeline() {
    const name = uniqueName('billing');
    await store.putPipeline({
      name,
      stream: 'orders',
      queueUrl: 'http://localhost:9324/000000000000/q',
      start: 'latest',
    });
    return name;
  }

  it('moves a pipeline to a time with --yes and records the seek', async () => {
    const name = await registeredPipeline();
    const before = await store.getState(name);

    const { code, stdout } = await sluice([
      'seek',
      name,
      '2024-05-01T12:30:00Z',
      '--stop-at',
      '2024-05-02T00:00:00Z',
      '--reason',
      'replay 1 May',
      '--yes',
      '--json',
    ]);

    expect(code).toBe(0);
    const target = formatPosition(positionAtTime(new Date('2024-05-01T12:30:00Z')));
    expect(JSON.parse(stdout)).toEqual({
      pipeline: name,
      from: formatPosition(before!.position),
      to: target,
      stopAt: '20240502000000',
      version: before!.version + 1,
    });
    expect(formatPosition((await store.getState(name))!.position)).toBe(target);
    const [seek] = await store.listSeeks(name, 1);
    expect(seek).toMatchObject({ to: target, stopAt: '20240502000000', reason: 'replay 1 May' });
  });

  it('moves a pipeline to a position once confirmed on stdin', async () => {
    const name = await registeredPipeline();

    const { code, stdout, stderr } = await sluice(['seek', name, 'earliest'], { stdin: 'y\n' });

    expect(code).toBe(0);
    expect(stderr).toMatch(
      new RegExp(`^Move pipeline '${name}' from \\d{14}/\\S+ to 19700101000000\\? \\[y/N\\] $`),
    );
    expect(stdout).toMatch(/to 19700101000000\.\n$/);
    expect((await store.getState(name))!.position).toEqual({ timeBucket: '19700101000000' });
  });

  it('fails when the confirmation is not given, and moves nothing', async () => {
    const name = await registeredPipeline();
    const before = await store.getState(name);

    const { code, stderr } = await sluice(['seek', name, 'earliest'], { stdin: 'n\n' });

    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`error: seek of pipeline '${name}' cancelled; nothing changed\\n$`));
    expect(await store.getState(name)).toEqual(before);
    expect(await store.listSeeks(name)).toEqual([]);
  });

  it('fails when the pipeline does not exist', async () => {
    const { code, stderr } = await sluice(['seek', 'ghost', 'earliest', '--yes']);

    expect(code).toBe(1);
    expect(stderr).toBe(`error: no pipeline named 'ghost' in state table '${state.name}'\n`);
  });
});

describe('sluice redrive', () => {
  const ids = new EventIdGenerator();
  const dead = (type: string, errorName: string) => ({
    id: ids.next(),
    type,
    data: { type },
    attempts: 5,
    lastError: { name: errorName, message: `${errorName} in handler`, at: Date.now() },
  });

  async function deadLetters() {
    const queue = await createQueueWithDeadLetterQueue(sqs);
    const timeout = dead('order.placed', 'TimeoutError');
    const typeError = dead('order.paid', 'TypeError');
    await sendMessageBatches(
      sqs,
      queue.deadLetterQueueUrl,
      [timeout, typeError].map((event, index) => ({
        id: String(index),
        body: envelopeBody({ pipeline: 'billing', stream: 'orders' }, [event]),
      })),
      { throwOnFailure: true },
    );
    return { queue, timeout, typeError };
  }

  it('moves the matching dead events back to the queues given', async () => {
    const { queue, timeout, typeError } = await deadLetters();

    const { code, stdout } = await sluice([
      'redrive',
      'billing',
      '--queue-url',
      queue.queueUrl,
      '--dead-letter-queue-url',
      queue.deadLetterQueueUrl,
      '--error-name',
      'TimeoutError',
      '--rate',
      '100',
      '--json',
    ]);

    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ moved: 1, kept: 1, examined: 2, dryRun: false, malformed: 0 });
    const back = await drainQueue(sqs, queue.queueUrl);
    expect(back.flatMap((message) => message.envelope.events.map((event) => event.id))).toEqual([timeout.id]);
    const left = await drainQueue(sqs, queue.deadLetterQueueUrl);
    expect(left.flatMap((message) => message.envelope.events.map((event) => event.id))).toEqual([
      typeError.id,
    ]);
  });

  it('finds the queue from the state table and the DLQ from its redrive policy; --dry-run moves nothing', async () => {
    const { queue } = await deadLetters();
    const name = uniqueName('billing');
    await store.putPipeline({ name, stream: 'orders', queueUrl: queue.queueUrl, start: 'latest' });

    const dryRun = await sluice([
      'redrive',
      name,
      '--source',
      'dead-letter-queue',
      '--type',
      'order.placed,order.paid',
      '--dry-run',
      '--json',
    ]);

    expect(dryRun.code).toBe(0);
    expect(JSON.parse(dryRun.stdout)).toMatchObject({
      queueUrl: queue.queueUrl,
      deadLetterQueueUrl: queue.deadLetterQueueUrl,
      moved: 2,
      dryRun: true,
    });
    expect(await drainQueue(sqs, queue.queueUrl)).toEqual([]);

    const real = await sluice(['redrive', name, '--source', 'dead-letter-queue']);

    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/^Moved 2 events back to \S+; 0 stay in the dead-letter queue/);
    expect(await drainQueue(sqs, queue.queueUrl)).toHaveLength(2);
  });
});

describe('sluice tail', () => {
  it('prints the events committed while it runs, then stops at --limit', async () => {
    const stream = uniqueName('orders');
    await log.commit({ stream, type: 'order.placed', data: { before: true } });
    // A writer's ids follow DynamoDB's clock, which its responses give to the second: an id may lead
    // this machine's clock by up to a second. Start the tail once the event is behind its "now".
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    const tail = sluice([
      'tail',
      stream,
      '--types',
      'order.placed',
      '--limit',
      '2',
      '--interval-ms',
      '100',
      '--json',
    ]);
    // Let the tail take its starting position (now) before committing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const committed = [
      await log.commit({ stream, type: 'order.placed', data: { n: 1 }, partitionKey: 'c-1' }),
      await log.commit({ stream, type: 'order.paid', data: { n: 2 } }),
      await log.commit({ stream, type: 'order.placed', data: { n: 3 } }),
    ];
    const { code, stdout } = await tail;

    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.id)).toEqual([committed[0], committed[2]]);
    expect(lines[0]).toMatchObject({ stream, type: 'order.placed', data: { n: 1 }, partitionKey: 'c-1' });
  });

  it('prints one text line an event, from --from', async () => {
    const stream = uniqueName('orders');
    const id = await log.commit({ stream, type: 'order.placed', data: { orderId: 'o-1' } });

    const { code, stdout, stderr } = await sluice(['tail', stream, '--from', 'earliest', '--limit', '1']);

    expect(code).toBe(0);
    expect(stderr).toMatch(/^Following stream '.+' from 19700101000000; Ctrl-C to stop\.\n$/);
    expect(stdout).toMatch(new RegExp(`^\\S+Z order\\.placed ${id} \\{"orderId":"o-1"\\}\\n$`));
  });
});

describe('the sluice bin', () => {
  it('runs through node and lists the commands in its help', () => {
    const result = spawnSync(process.execPath, ['bin/sluice.mjs', '--help'], { encoding: 'utf8' });

    expect(result.status).toBe(0);
    for (const command of ['status', 'publish', 'seek', 'redrive', 'tail', 'backfill', 'dev']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  it('ends quietly when its reader closes the pipe early', () => {
    // `sluice --help | head -1`: the shell closes stdout after the first line.
    const result = spawnSync('sh', ['-c', `"${process.execPath}" bin/sluice.mjs --help | head -1`], {
      encoding: 'utf8',
    });

    expect(result.stdout).toMatch(/^Usage: sluice/);
    expect(result.stderr).toBe('');
  });

  it('exits 2 with a message on a bad argument', () => {
    const result = spawnSync(process.execPath, ['bin/sluice.mjs', 'redrive', 'billing', '--rate', 'fast'], {
      encoding: 'utf8',
    });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("argument 'fast' is invalid");
  });
});
