import type { Command } from 'commander';
import { queueDepth } from '../../lib/fetcher/queue-depth';
import type { ResolvedPipeline } from '../../lib/pipeline/definition';
import type { PipelineStore } from '../../lib/state/pipeline-store';
import type { PipelineState, RunRecord } from '../../lib/state/types';
import { formatPosition, positionTimeMs } from '../../lib/time/position';
import { type PipelineCounters, readPipelineCounters } from '../../lib/worker/pipeline-counters';
import { type CliContext, runAction } from '../context';
import { deadLetterQueueUrlOf } from '../dead-letter-queue';
import { DEFAULT_TABLE_WIDTH, humanDuration, renderTable } from '../format';
import type { CliIo } from '../io';

/** One pipeline as `sluice status --json` prints it; a value that could not be read is `null`. */
export interface PipelineStatusRow {
  readonly pipeline: string;
  readonly stream: string | null;
  readonly enabled: boolean | null;
  /** `running`, or `completed` once a bounded pipeline reached its stopAt. */
  readonly status: string | null;
  /** `yyyyMMddHH0000[/eventId]`. */
  readonly position: string | null;
  readonly stopAt: string | null;
  /** How far the position is behind now, in milliseconds. */
  readonly lagMs: number | null;
  readonly queueUrl: string | null;
  /** Messages in the queue: visible, in flight and delayed. */
  readonly backlog: number | null;
  /** Where the fetcher pauses: the most messages it lets wait in the queue. */
  readonly bufferSize: number | null;
  /** `backlog / bufferSize`: at 1 the fetcher pauses and the backlog grows in the log instead. */
  readonly pressure: number | null;
  /** Set when the pipeline was halted (a stage that aborted): when, and why. */
  readonly halted: { readonly at: number; readonly reason: string } | null;
  readonly deadLetterQueueUrl: string | null;
  readonly deadLetters: number | null;
  /** The fetcher holding the lease, while it is unexpired. */
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: number | null;
  readonly lastRun: {
    readonly status: string;
    readonly startedAt: number;
    readonly endedAt: number | null;
    readonly eventsSent: number | null;
    readonly stopReason: string | null;
    readonly error: string | null;
  } | null;
  /** The workers' running totals: events handled, failed attempts, dead-lettered, average latency. */
  readonly counters: PipelineCounters | null;
  /** What could not be read, each naming the queue or record. */
  readonly problems: readonly string[];
}

export function registerStatus(program: Command, io: CliIo): void {
  program
    .command('status')
    .description(
      'show every pipeline (every stage): position, lag, queue backlog and pressure, DLQ depth, lease owner, last run, halts',
    )
    .argument('[pipelines...]', 'only these pipelines')
    .addHelpText(
      'after',
      '\nExamples:\n  sluice status --state-table sluice-state\n  sluice status billing --json',
    )
    .action((names: string[], _options: unknown, command: Command) =>
      runAction(command, io, (context) => status(context, names)),
    );
}

async function status(context: CliContext, names: readonly string[]): Promise<void> {
  const store = context.pipelineStore();
  const { pipelines, invalid } = await store.listPipelines();
  const wanted = new Set(names);
  const known = new Set([...pipelines.map((p) => p.name), ...invalid.map((p) => p.name)]);
  const missing = names.filter((name) => !known.has(name));
  if (missing.length > 0) {
    throw new Error(
      `no pipeline named ${missing.map((name) => `'${name}'`).join(', ')} in state table '${store.tableName}'`,
    );
  }
  const now = Date.now();
  const selected = pipelines.filter((p) => wanted.size === 0 || wanted.has(p.name));
  const rows: PipelineStatusRow[] = [
    ...(await Promise.all(selected.map((pipeline) => pipelineRow(context, store, pipeline, now)))),
    ...invalid
      .filter((p) => wanted.size === 0 || wanted.has(p.name))
      .map((p) => invalidRow(p.name, `its stored definition is invalid: ${p.error.message}`)),
  ].sort((a, b) => a.pipeline.localeCompare(b.pipeline));

  if (context.json) {
    context.printJson(rows);
    failOnProblems(rows);
    return;
  }
  if (rows.length === 0) {
    context.print(`no pipelines registered in state table '${store.tableName}'`);
    return;
  }
  context.print(
    renderTable(
      [
        'Pipeline',
        'Stream',
        'Position',
        'Lag',
        'Handled',
        'Failed',
        'Latency',
        'Backlog',
        'Pressure',
        'DLQ',
        'Lease owner',
        'Last run',
      ],
      rows.map((row) => [
        `${row.pipeline}${row.halted ? ' (halted)' : ''}${row.problems.length > 0 ? ' (!)' : ''}`,
        row.stream ?? '?',
        row.position ?? '?',
        row.lagMs === null ? '?' : humanDuration(row.lagMs),
        row.counters ? String(row.counters.handled) : '-',
        row.counters ? String(row.counters.failed) : '-',
        row.counters?.averageLatencyMs == null ? '-' : humanDuration(row.counters.averageLatencyMs),
        row.backlog === null ? '?' : String(row.backlog),
        row.pressure === null ? '?' : `${Math.round(row.pressure * 100)}%`,
        row.deadLetters === null ? (row.deadLetterQueueUrl === null ? '-' : '?') : String(row.deadLetters),
        row.leaseOwner ?? '-',
        lastRunText(row.lastRun),
      ]),
      context.io.stdout.columns ?? DEFAULT_TABLE_WIDTH,
    ),
  );
  for (const row of rows) {
    for (const problem of row.problems) context.io.stderr.write(`warning: ${row.pipeline}: ${problem}\n`);
    if (row.halted)
      context.print(
        `${row.pipeline} is halted since ${new Date(row.halted.at).toISOString()}: ${row.halted.reason}`,
      );
  }
  failOnProblems(rows);
}

/** Ends `status` with exit code 1 when a row it printed is marked `(!)`: scripts and CI see it. */
function failOnProblems(rows: readonly PipelineStatusRow[]): void {
  const troubled = rows.filter((row) => row.problems.length > 0).map((row) => `'${row.pipeline}'`);
  if (troubled.length > 0)
    throw new Error(
      `${troubled.length} pipeline(s) with a problem: ${troubled.join(', ')} (see the warnings, or problems in --json)`,
    );
}

async function pipelineRow(
  context: CliContext,
  store: PipelineStore,
  pipeline: ResolvedPipeline,
  now: number,
): Promise<PipelineStatusRow> {
  const problems: string[] = [];
  const attempt = async <T>(what: string, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
      return undefined;
    }
  };
  const sqs = context.sqs();
  const [state, runs, backlog, deadLetterQueueUrl, counters] = await Promise.all([
    attempt('state', () => store.getState(pipeline.name)),
    attempt('runs', () => store.listRuns(pipeline.name, 1)),
    attempt(`queue ${pipeline.queueUrl}`, () => queueDepth(sqs, pipeline.queueUrl)),
    attempt(`redrive policy of ${pipeline.queueUrl}`, () => deadLetterQueueUrlOf(sqs, pipeline.queueUrl)),
    attempt('counters', () => readPipelineCounters(context.dynamodb(), store.tableName, pipeline.name)),
  ]);
  const deadLetters =
    deadLetterQueueUrl === undefined
      ? undefined
      : await attempt(`dead-letter queue ${deadLetterQueueUrl}`, () => queueDepth(sqs, deadLetterQueueUrl));
  if (state === undefined && !problems.some((p) => p.startsWith('state'))) {
    problems.push(`no state item in table '${store.tableName}'`);
  }
  return {
    pipeline: pipeline.name,
    stream: pipeline.stream,
    enabled: pipeline.enabled,
    status: state?.status ?? null,
    position: state ? formatPosition(state.position) : null,
    stopAt: state?.stopAt ? formatPosition(state.stopAt) : null,
    lagMs: state ? Math.max(0, now - positionTimeMs(state.position)) : null,
    queueUrl: pipeline.queueUrl,
    backlog: backlog ?? null,
    bufferSize: pipeline.bufferSize,
    pressure: backlog === undefined ? null : backlog / pipeline.bufferSize,
    halted: pipeline.halted ?? null,
    deadLetterQueueUrl: deadLetterQueueUrl ?? null,
    deadLetters: deadLetters ?? null,
    ...lease(state, now),
    lastRun: runs?.[0] ? lastRun(runs[0]) : null,
    counters: counters ?? null,
    problems,
  };
}

function lease(
  state: PipelineState | undefined,
  now: number,
): Pick<PipelineStatusRow, 'leaseOwner' | 'leaseExpiresAt'> {
  if (!state?.leaseOwner || state.leaseExpiresAt <= now) return { leaseOwner: null, leaseExpiresAt: null };
  return { leaseOwner: state.leaseOwner, leaseExpiresAt: state.leaseExpiresAt };
}

function lastRun(run: RunRecord): PipelineStatusRow['lastRun'] {
  return {
    status: run.status,
    startedAt: run.startedAt,
    endedAt: run.endedAt ?? null,
    eventsSent: run.counts?.eventsSent ?? null,
    stopReason: run.stopReason ?? null,
    error: run.error ? `${run.error.name}: ${run.error.message}` : null,
  };
}

function lastRunText(run: PipelineStatusRow['lastRun']): string {
  if (!run) return '-';
  const at = new Date(run.endedAt ?? run.startedAt).toISOString();
  const sent = run.eventsSent === null ? '' : `, ${run.eventsSent} sent`;
  return `${run.status} ${at}${sent}`;
}

function invalidRow(name: string, problem: string): PipelineStatusRow {
  return {
    pipeline: name,
    stream: null,
    enabled: null,
    status: null,
    position: null,
    stopAt: null,
    lagMs: null,
    queueUrl: null,
    backlog: null,
    bufferSize: null,
    pressure: null,
    halted: null,
    deadLetterQueueUrl: null,
    deadLetters: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    lastRun: null,
    counters: null,
    problems: [problem],
  };
}
