import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { attachBackfills } from '../../lib/backfill/local';
import { describe } from '../../lib/errors';
import {
  type LocalPipeline,
  type LocalPipelineOptions,
  type ModuleExport,
  startLocalPipeline,
} from '../../lib/local';
import { LOCAL_REGION } from '../../lib/local/aws-clients';
import { LocalEnvironmentError } from '../../lib/local/errors';
import { importModule } from '../../lib/local/import-module';
import { SLUICE_VARIABLES } from '../../lib/settings/variables';
import { wholeNumber } from '../arguments';
import { type CliContext, runAction } from '../context';
import { removeDevState, writeDevState } from '../dev-state';
import { UsageError } from '../errors';
import type { CliIo } from '../io';

/**
 * What a `sluice dev` definition file exports: as its default export, or as named exports of the
 * same names (a JSON file is the object itself). Give exactly one of `worker` and `workerModule`;
 * a JSON file can only use `workerModule`. Every other key is refused.
 *
 * @example
 * ```ts
 * // pipeline.dev.ts
 * export default {
 *   pipeline: { name: 'billing', stream: 'orders', eventTypes: ['order.paid'], start: 'earliest' },
 *   worker: createWorker({ handle: async (event) => console.log(event.id) }),
 *   fetcherIntervalMs: 5_000,
 * } satisfies DevDefinition;
 * ```
 */
export interface DevDefinition
  extends Pick<LocalPipelineOptions, 'pipeline' | 'worker' | (typeof PASSED_THROUGH)[number]> {
  /** Or the worker's module; a relative path is taken from the definition file's folder. */
  readonly workerModule?: string | ModuleExport;
  /** The failed-event function's module, resolved like `workerModule`. */
  readonly failedModule?: string | ModuleExport;
}

const PASSED_THROUGH = [
  'failedHandler',
  'queueName',
  'batchSize',
  'maximumBatchingWindowSeconds',
  'maximumConcurrency',
  'workerTimeoutSeconds',
  'maxRedeliveryCount',
  'fetcherIntervalMs',
  'wakeOnCommit',
  'wakeBatchingWindowSeconds',
  'latency',
  'fetcherTimeoutSeconds',
  'fetcherPollIntervalMs',
  'settleWindowMs',
] as const;
const DEFINITION_KEYS = new Set<string>([
  'pipeline',
  'worker',
  'workerModule',
  'failedModule',
  ...PASSED_THROUGH,
]);
const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

interface DevOptions {
  readonly duration?: number;
}

export function registerDev(program: Command, io: CliIo): void {
  program
    .command('dev')
    .description(
      'run a pipeline on this machine: fetcher, worker, failed handler and backfills, until Ctrl-C',
    )
    .argument('<definition>', 'a .ts, .js or .json file exporting { pipeline, worker | workerModule, ... }')
    .option('--duration <seconds>', 'stop after this many seconds', wholeNumber(1, 31_536_000))
    .addHelpText(
      'after',
      [
        '',
        'It starts DynamoDB Local and the SQS emulator, unless endpoints are given (--endpoint, or',
        '$AWS_ENDPOINT_URL_DYNAMODB and $AWS_ENDPOINT_URL_SQS); tables are created if missing',
        '(default sluice-events and sluice-state). Backfills of the pipeline (sluice backfill) run while it does.',
        '',
        'A definition file:',
        "  export default { pipeline: { name: 'billing', stream: 'orders', start: 'earliest' },",
        "                   workerModule: './billing-worker.ts' };",
        '',
        'Examples:',
        '  sluice dev pipeline.dev.ts',
        '  sluice dev pipeline.dev.ts --duration 60 --json',
      ].join('\n'),
    )
    .action((file: string, options: DevOptions, command: Command) =>
      // It starts (or is given) the endpoints: it never reads those of another `sluice dev`.
      runAction(command, io, (context) => dev(context, file, options), { findDev: false }),
    );
}

async function dev(context: CliContext, file: string, options: DevOptions): Promise<void> {
  const path = resolve(context.io.cwd ?? process.cwd(), file);
  const definition = await loadDefinition(path);
  const local = await startLocalPipeline(localOptions(context, path, definition));
  const emit = (event: string, fields: Record<string, unknown>, text: string) => {
    if (context.json) context.print(JSON.stringify({ event, ...fields }));
    else context.print(text);
  };
  const backfills = attachBackfills(local, {
    onCompleted: (detail) =>
      emit(
        'backfill-completed',
        detail,
        `backfill ${detail.backfillPipeline} completed: ${detail.eventsSent} event(s) sent`,
      ),
    onError: (error) => context.io.stderr.write(`backfills: ${(error as Error).message}\n`),
  });
  const region = context.aws.region ?? LOCAL_REGION;
  const stateFile =
    local.endpoints.dynamodb && local.endpoints.sqs
      ? await writeDevState(context.io.cwd ?? process.cwd(), {
          pid: process.pid,
          startedAt: new Date().toISOString(),
          endpoints: { dynamodb: local.endpoints.dynamodb, sqs: local.endpoints.sqs },
          region,
          eventLogTable: local.eventLog.tableName,
          stateTable: local.store.tableName,
          pipeline: definition.pipeline.name,
          stream: definition.pipeline.stream,
          queueUrl: local.queueUrl,
          deadLetterQueueUrl: local.deadLetterQueueUrl,
        })
      : undefined;
  const started = {
    pipeline: definition.pipeline.name,
    stream: definition.pipeline.stream,
    queueUrl: local.queueUrl,
    deadLetterQueueUrl: local.deadLetterQueueUrl,
    endpoints: local.endpoints,
    eventLogTable: local.eventLog.tableName,
    stateTable: local.store.tableName,
    stateFile: stateFile ?? null,
    emulatorPids: local.pids,
  };
  emit(
    'started',
    started,
    [
      `Running pipeline '${started.pipeline}' on stream '${started.stream}'`,
      `  DynamoDB   ${local.endpoints.dynamodb ?? 'AWS'} (tables ${started.eventLogTable}, ${started.stateTable})`,
      `  SQS        ${local.endpoints.sqs ?? 'AWS'}`,
      `  queue      ${started.queueUrl}`,
      `  DLQ        ${started.deadLetterQueueUrl}`,
      ...(stateFile ? [`  state      ${stateFile} (the other sluice commands read it)`] : []),
      '',
      ...nextSteps(definition, stateFile !== undefined),
      '',
      options.duration === undefined
        ? 'Ctrl-C to stop.'
        : `Stopping after ${options.duration}s; Ctrl-C to stop sooner.`,
    ].join('\n'),
  );

  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  process.once('SIGINT', onInterrupt);
  context.io.signal?.addEventListener('abort', onInterrupt, { once: true });
  if (context.io.signal?.aborted) stop.abort();
  const timer =
    options.duration === undefined ? undefined : setTimeout(() => stop.abort(), options.duration * 1000);
  let last = '';
  const report = () => {
    const now = counters(local, backfills.stats().completed);
    const key = JSON.stringify(now);
    if (key === last) return;
    last = key;
    emit('stats', now, countersText(now));
  };
  const ticker = setInterval(report, 1000);
  try {
    await new Promise<void>((done) => stop.signal.addEventListener('abort', () => done(), { once: true }));
  } finally {
    clearInterval(ticker);
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onInterrupt);
    context.io.signal?.removeEventListener('abort', onInterrupt);
    if (!context.json) context.io.stderr.write('Stopping...\n');
    await backfills.stop();
    await local.stop();
    if (stateFile) await removeDevState(stateFile, process.pid);
  }
  const final = counters(local, backfills.stats().completed);
  emit('stopped', final, `Stopped. ${countersText(final)}`);
}

/** What to run next, in another terminal of the same project. */
function nextSteps(definition: DevDefinition, found: boolean): string[] {
  const { stream, name, eventTypes } = definition.pipeline;
  const type = eventTypes?.[0] ?? 'example.created';
  const where = found ? '' : ' --endpoint ...';
  return [
    'Next, in another terminal in this project:',
    `  npx sluice publish ${stream} --type ${type} '{"hello":"world"}'${where}`,
    `  npx sluice tail ${stream}${where}`,
    `  npx sluice status ${name}${where}`,
  ];
}

/** The counters worth watching, flat. */
function counters(local: LocalPipeline, backfillsCompleted: number) {
  const stats = local.stats();
  return {
    fetcherRuns: stats.fetcher.invocations,
    fetcherErrors: stats.fetcher.errors,
    workerInvocations: stats.worker.invocations,
    recordsHandled: stats.worker.deleted,
    recordsFailed: stats.worker.failedItems,
    failedHandlerRecords: stats.failed.records,
    backfillsCompleted,
  };
}

function countersText(value: ReturnType<typeof counters>): string {
  return [
    `fetcher runs ${value.fetcherRuns} (${value.fetcherErrors} failed)`,
    `worker invocations ${value.workerInvocations}`,
    `messages handled ${value.recordsHandled}`,
    `failed ${value.recordsFailed}`,
    `to failed handler ${value.failedHandlerRecords}`,
    `backfills completed ${value.backfillsCompleted}`,
  ].join(', ');
}

/** Reads a definition file: JSON, or a module whose default export (or whose named exports) it is. */
async function loadDefinition(path: string): Promise<DevDefinition> {
  const extension = extname(path);
  let value: unknown;
  if (extension === '.json') {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the definition ${path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new Error(`the definition ${path} is not valid JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
  } else if (MODULE_EXTENSIONS.has(extension)) {
    let loaded: Record<string, unknown>;
    try {
      loaded = await importModule(path, `the definition ${path}`);
    } catch (error) {
      if (error instanceof LocalEnvironmentError && error.code === 'peer-dependency-missing') throw error;
      throw new Error(`cannot import the definition ${path}: ${(error as Error).message}`, { cause: error });
    }
    const { default: fallback, ...named } = loaded;
    value = typeof fallback === 'object' && fallback !== null && 'pipeline' in fallback ? fallback : named;
  } else {
    throw new UsageError(
      `the definition must be a .ts, .mts, .js, .mjs, .cjs or .json file (given '${path}')`,
    );
  }
  return checkDefinition(path, value);
}

function checkDefinition(path: string, value: unknown): DevDefinition {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`the definition ${path} must export an object (given ${describe(value)})`);
  const problems: string[] = [];
  const unknown = Object.keys(value).filter((key) => !DEFINITION_KEYS.has(key));
  if (unknown.length > 0)
    problems.push(
      `unknown key(s) ${unknown.map((key) => `'${key}'`).join(', ')}; allowed: ${[...DEFINITION_KEYS].join(', ')}`,
    );
  const definition = value as Partial<DevDefinition>;
  if (typeof definition.pipeline !== 'object' || definition.pipeline === null)
    problems.push(
      `pipeline must be an object { name, stream, eventTypes?, start?, ... } (given ${describe(definition.pipeline)})`,
    );
  if (definition.worker !== undefined && typeof definition.worker !== 'function')
    problems.push(`worker must be a Lambda handler function (given ${describe(typeof definition.worker)})`);
  if ((definition.worker === undefined) === (definition.workerModule === undefined))
    problems.push('give exactly one of worker and workerModule');
  if (problems.length > 0) throw new Error(`invalid definition ${path}: ${problems.join('; ')}`);
  return definition as DevDefinition;
}

function localOptions(context: CliContext, path: string, definition: DevDefinition): LocalPipelineOptions {
  const { dynamodbEndpoint, sqsEndpoint, region, credentials } = context.aws;
  if ((dynamodbEndpoint === undefined) !== (sqsEndpoint === undefined))
    throw new UsageError(
      `give both endpoints or neither: DynamoDB ${dynamodbEndpoint ?? 'unset'}, SQS ${sqsEndpoint ?? 'unset'} (--endpoint sets both)`,
    );
  const eventLogTable = context.options.eventLogTable ?? context.io.env[SLUICE_VARIABLES.eventLogTable];
  const stateTable = context.options.stateTable ?? context.io.env[SLUICE_VARIABLES.stateTable];
  const passed: Record<string, unknown> = {};
  for (const key of PASSED_THROUGH) if (definition[key] !== undefined) passed[key] = definition[key];
  return {
    ...(passed as Partial<LocalPipelineOptions>),
    pipeline: definition.pipeline,
    ...(definition.worker ? { worker: definition.worker } : {}),
    ...(definition.workerModule ? { workerModule: moduleExport(path, definition.workerModule) } : {}),
    ...(definition.failedModule ? { failedModule: moduleExport(path, definition.failedModule) } : {}),
    ...(dynamodbEndpoint && sqsEndpoint
      ? { endpoints: { dynamodb: dynamodbEndpoint, sqs: sqsEndpoint } }
      : {}),
    ...(region ? { region } : {}),
    ...(credentials ? { credentials } : {}),
    ...(eventLogTable ? { eventLogTable } : {}),
    ...(stateTable ? { stateTable } : {}),
  };
}

/** A module named in a definition, its relative path taken from the definition's folder. */
function moduleExport(definitionPath: string, module: string | ModuleExport): ModuleExport {
  const given = typeof module === 'string' ? { path: module } : module;
  if (typeof given?.path !== 'string') return given;
  const path =
    given.path.startsWith('file:') || isAbsolute(given.path)
      ? given.path
      : resolve(dirname(definitionPath), given.path);
  return { ...given, path };
}
