import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLog } from '../../lib';
import { Fetcher } from '../../lib/fetcher/fetcher';
import { PipelineStore } from '../../lib/state/pipeline-store';
import { eventIdToEpochMs } from '../../lib/time/event-id';
import {
  createQueueWithDeadLetterQueue,
  createStreamTable,
  dynamodbClient,
  sqsClient,
  uniqueName,
} from '../support/aws';
import { emulatorEnvironment, sluice as runSluice } from '../support/cli';
import { commitOneByOne, steppingIdGenerator } from '../support/fixtures';
import { drainQueue, receivedEventIds } from '../support/pipeline-fixture';
import { waitFor } from '../support/wait-for';

const dynamodb = dynamodbClient();
const sqs = sqsClient();
let events: Awaited<ReturnType<typeof createStreamTable>>;
let state: Awaited<ReturnType<typeof createStreamTable>>;
let log: EventLog;
let store: PipelineStore;
const stream = uniqueName('orders');
/** Six events a minute apart, an hour ago. */
let ids: string[];

beforeAll(async () => {
  [events, state] = await Promise.all([
    createStreamTable(dynamodb, 'events'),
    createStreamTable(dynamodb, 'state'),
  ]);
  log = new EventLog({
    tableName: events.name,
    client: dynamodb,
    idGenerator: steppingIdGenerator(Date.now() - 3_600_000, () => 60_000),
  });
  store = new PipelineStore({ tableName: state.name, client: dynamodb });
  ids = await commitOneByOne(
    log,
    Array.from({ length: 6 }, (_, n) => ({ stream, type: 'order.placed', data: { n } })),
  );
});

afterAll(async () => {
  await Promise.all([events.drop(), state.drop()]);
});

function sluice(args: string[]) {
  return runSluice(args, {
    env: emulatorEnvironment({ eventLogTable: events.name, stateTable: state.name }),
  });
}

const timeOf = (id: string | undefined) => new Date(eventIdToEpochMs(id as string)).toISOString();

/** A pipeline on a new queue, live from now. */
async function registeredPipeline() {
  const queue = await createQueueWithDeadLetterQueue(sqs);
  const name = uniqueName('billing');
  await store.putPipeline({ name, stream, queueUrl: queue.queueUrl, start: 'latest' });
  return { name, queueUrl: queue.queueUrl };
}

describe('sluice backfill', () => {
  it('registers the backfill and returns at once with --no-wait --json', async () => {
    // Prepare
    const { name } = await registeredPipeline();

    // Act
    const { code, stdout, stderr } = await sluice([
      'backfill',
      name,
      '--from',
      timeOf(ids[1]),
      '--to',
      timeOf(ids[4]),
      '--id',
      'nowait',
      '--no-wait',
      '--json',
    ]);

    // Assess
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const output = JSON.parse(stdout) as Record<string, unknown>;
    expect(output).toMatchObject({
      backfillId: 'nowait',
      backfillPipeline: `${name}.backfill.nowait`,
      created: true,
    });
    expect(await store.getPipeline(`${name}.backfill.nowait`)).toMatchObject({ stream, enabled: true });
    expect((await store.getState(`${name}.backfill.nowait`))?.status).toBe('running');
  });

  it('prints the backfill pipeline name without --json', async () => {
    const { name } = await registeredPipeline();

    const { code, stdout } = await sluice([
      'backfill',
      name,
      '--from',
      'earliest',
      '--to',
      'now',
      '--no-wait',
    ]);

    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^${name}\\.backfill\\.[0-9a-f]{8}\\n$`));
  });

  it('waits until a fetcher has completed the backfill', async () => {
    // Prepare
    const { name, queueUrl } = await registeredPipeline();
    const backfillPipeline = `${name}.backfill.waiting`;

    // Act
    const running = sluice([
      'backfill',
      name,
      '--from',
      timeOf(ids[1]),
      '--to',
      timeOf(ids[4]),
      '--id',
      'waiting',
      '--interval-ms',
      '100',
      '--json',
    ]);
    await waitFor('the backfill record', () => store.getPipeline(backfillPipeline));
    const fetcher = new Fetcher({
      store,
      source: log,
      sqs,
      pipelines: [backfillPipeline],
      pollIntervalMs: 50,
    });
    await fetcher.run({ untilCaughtUp: true, budgetMs: 20_000 });
    const { code, stdout, stderr } = await running;

    // Assess
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      backfillPipeline,
      status: 'completed',
      eventsSent: 3,
      eventsTotal: 3,
    });
    expect(receivedEventIds(await drainQueue(sqs, queueUrl))).toEqual([ids[1], ids[2], ids[3]]);
  });

  it('fails with exit code 2 when --from is neither a time nor a position, naming it', async () => {
    const { code, stderr } = await sluice(['backfill', 'billing', '--from', 'yesterday', '--to', 'now']);

    expect(code).toBe(2);
    expect(stderr).toContain("'yesterday'");
  });

  it('fails with exit code 2 when --from lies after --to, naming both', async () => {
    const { name } = await registeredPipeline();

    const { code, stderr } = await sluice([
      'backfill',
      name,
      '--from',
      '2024-05-02T00:00:00Z',
      '--to',
      '20240501000000',
      '--no-wait',
    ]);

    expect(code).toBe(2);
    expect(stderr).toContain('from "2024-05-02T00:00:00.000Z" lies after to "20240501000000"');
  });

  it('fails with exit code 1 when the pipeline is not registered', async () => {
    const { code, stderr } = await sluice([
      'backfill',
      'ghost',
      '--from',
      'earliest',
      '--to',
      'now',
      '--no-wait',
    ]);

    expect(code).toBe(1);
    expect(stderr).toBe("error: no pipeline named 'ghost' is registered\n");
  });
});

describe('sluice dev', () => {
  it('runs a definition file for --duration and handles events committed before it started', async () => {
    // Prepare
    const directory = await mkdtemp(join(tmpdir(), 'sluice-dev-'));
    const handledFile = join(directory, 'handled.txt');
    const devStream = uniqueName('dev');
    const committed = await new EventLog({ tableName: events.name, client: dynamodb }).commit([
      { stream: devStream, type: 'order.placed', data: { n: 1 } },
      { stream: devStream, type: 'order.placed', data: { n: 2 } },
    ]);
    const definition = join(directory, 'pipeline.dev.mjs');
    await writeFile(
      definition,
      [
        "import { appendFileSync } from 'node:fs';",
        `export const pipeline = { name: ${JSON.stringify(uniqueName('dev'))}, stream: ${JSON.stringify(devStream)}, start: 'earliest' };`,
        'export const fetcherPollIntervalMs = 100;',
        'export async function worker(event) {',
        '  for (const record of event.Records)',
        `    for (const e of JSON.parse(record.body).events) appendFileSync(${JSON.stringify(handledFile)}, e.id + '\\n');`,
        '  return { batchItemFailures: [] };',
        '}',
      ].join('\n'),
    );

    try {
      // Act
      const { code, stdout, stderr } = await sluice(['dev', definition, '--duration', '3', '--json']);

      // Assess
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const lines = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines[0]).toMatchObject({ event: 'started', stream: devStream });
      expect(lines.at(-1)).toMatchObject({ event: 'stopped', fetcherErrors: 0, recordsFailed: 0 });
      expect(lines.at(-1)?.recordsHandled).toBeGreaterThanOrEqual(1);
      const handled = (await readFile(handledFile, 'utf8')).trim().split('\n');
      expect(handled).toEqual(committed);
    } finally {
      await rm(directory, { recursive: true });
    }
  }, 30_000);

  it('fails with exit code 1 when the definition has an unknown key, naming it', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sluice-dev-'));
    const definition = join(directory, 'bad.json');
    await writeFile(
      definition,
      JSON.stringify({ pipeline: { name: 'x', stream: 'y' }, workerModule: './w.mjs', workr: 1 }),
    );

    try {
      const { code, stderr } = await sluice(['dev', definition]);

      expect(code).toBe(1);
      expect(stderr).toContain("unknown key(s) 'workr'");
    } finally {
      await rm(directory, { recursive: true });
    }
  });
});
