import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EventLog, type FailedEvent } from '../../lib';
import { createStreamTable, dynamodbClient, uniqueName } from '../support/aws';
import { emulatorEnvironment, sluice, startSluice } from '../support/cli';
import { waitFor } from '../support/wait-for';

const dynamodb = dynamodbClient();
let events: Awaited<ReturnType<typeof createStreamTable>>;
let state: Awaited<ReturnType<typeof createStreamTable>>;
let directory: string;

beforeAll(async () => {
  [events, state] = await Promise.all([
    createStreamTable(dynamodb, 'events'),
    createStreamTable(dynamodb, 'state'),
  ]);
});

afterAll(async () => {
  await Promise.all([events.drop(), state.drop()]);
});

afterEach(async () => {
  vi.restoreAllMocks();
  if (directory) await rm(directory, { recursive: true, force: true });
});

const environment = () => emulatorEnvironment({ eventLogTable: events.name, stateTable: state.name });

describe('sluice dev', () => {
  it('retries a failing event of a worker module and hands one that keeps failing to the failed handler with its error', async () => {
    // Prepare
    directory = await mkdtemp(join(tmpdir(), 'sluice-dev-'));
    const stream = uniqueName('orders');
    const definition = join(directory, 'pipeline.dev.mjs');
    await writeFile(
      definition,
      [
        `export const pipeline = { name: ${JSON.stringify(uniqueName('retrying'))}, stream: ${JSON.stringify(stream)}, start: 'earliest' };`,
        `export const workerModule = ${JSON.stringify(resolve('test/fixtures/retrying-worker.ts'))};`,
        'export const maxRedeliveryCount = 2;',
        'export const fetcherIntervalMs = 500;',
        'export const fetcherPollIntervalMs = 100;',
        'export function failedHandler(failures) {',
        '  globalThis.devFailedEvents ??= [];',
        '  globalThis.devFailedEvents.push(...failures);',
        '}',
      ].join('\n'),
    );
    const warnings: string[] = [];
    for (const method of ['warn', 'error'] as const)
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        warnings.push(args.map(String).join(' '));
      });
    const global = globalThis as {
      devFailedEvents?: FailedEvent[];
      retryingWorkerAttempts?: Map<string, number>;
    };

    // Act
    const dev = startSluice(['dev', definition, '--json'], { cwd: directory, env: environment() });
    const [once, always] = await new EventLog({ tableName: events.name, client: dynamodb }).commit([
      { stream, type: 'order.placed', data: { fail: 'once' } },
      { stream, type: 'order.placed', data: { fail: 'always' } },
    ]);
    const failed = await waitFor(
      'the event that always fails at the failed handler',
      () => global.devFailedEvents?.find((failure) => failure.event.id === always),
      { timeoutMs: 30_000 },
    );
    await waitFor(
      'the event that fails once handled',
      () => global.retryingWorkerAttempts?.get(once as string) === 2,
    );
    const { code, stdout } = await dev.stop();

    // Assess
    expect(code).toBe(0);
    expect(warnings.filter((line) => /Invalid URL|QueueUrl=/.test(line))).toEqual([]);
    expect(failed).toMatchObject({ attempts: 2, lastError: { message: `event ${always} always fails` } });
    expect(global.devFailedEvents?.map((failure) => failure.event.id)).toEqual([always]);
    expect(global.retryingWorkerAttempts?.get(always as string)).toBe(2);
    const stopped = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>;
    expect(stopped).toMatchObject({ event: 'stopped', fetcherErrors: 0, failedHandlerRecords: 1 });
  }, 60_000);

  it('tells the other commands where it runs: status and publish need no endpoint, keys or tables', async () => {
    // Prepare
    directory = await mkdtemp(join(tmpdir(), 'sluice-dev-'));
    await writeFile(join(directory, 'package.json'), '{"name":"app"}');
    const stream = uniqueName('orders');
    const name = uniqueName('found');
    await writeFile(
      join(directory, 'pipeline.dev.mjs'),
      [
        `export const pipeline = { name: ${JSON.stringify(name)}, stream: ${JSON.stringify(stream)}, start: 'earliest' };`,
        'export async function worker() { return { batchItemFailures: [] }; }',
      ].join('\n'),
    );
    const dev = startSluice(['dev', 'pipeline.dev.mjs'], { cwd: directory, env: environment() });
    const stateFile = join(directory, '.sluice', 'dev.json');
    await waitFor('the dev state file', () => existsSync(stateFile), { timeoutMs: 30_000 });

    // Act
    const status = await sluice(['status', name, '--json'], { cwd: join(directory), env: {} });
    const published = await sluice(['publish', stream, '--type', 'order.placed', '{"n":1}'], {
      cwd: directory,
      env: {},
    });
    const { code, stdout } = await dev.stop();

    // Assess
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as { pipeline: string }[]).map((row) => row.pipeline)).toEqual([name]);
    expect(published.code).toBe(0);
    expect(published.stderr).toContain('Using sluice dev');
    expect(code).toBe(0);
    expect(stdout).toContain(`npx sluice publish ${stream} --type example.created`);
    expect(existsSync(stateFile)).toBe(false);
  }, 60_000);
});
