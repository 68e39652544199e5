import { setTimeout as delay } from 'node:timers/promises';
import { SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type EventLog, parsePosition } from '../../lib';
import { type BackfillProgress, backfillProgress, registerBackfill } from '../../lib/backfill';
import { InvalidDefinitionError } from '../../lib/errors';
import type { PipelineStore } from '../../lib/state/pipeline-store';
import { formatPosition } from '../../lib/time/position';
import { parseTime, wholeNumber } from '../arguments';
import { type CliContext, runAction } from '../context';
import { UsageError } from '../errors';
import { humanDuration } from '../format';
import type { CliIo } from '../io';

interface BackfillOptions {
  readonly from: string;
  readonly to: string;
  readonly id?: string;
  readonly wait: boolean;
  readonly intervalMs: number;
}

const POSITION_SHAPE = /^\d{14}(\/.*)?$/;
const BOUND_HELP = 'a position yyyyMMddHH0000[/eventId] or an ISO 8601 time';

/**
 * Reads a backfill bound as the request carries it: a position as written, a time as an ISO string
 * in UTC; `earliest` is the first position, `now` the current time.
 */
function parseBound(text: string): string {
  if (text === 'earliest') return '19700101000000';
  if (text === 'now') return new Date().toISOString();
  if (POSITION_SHAPE.test(text)) {
    try {
      return formatPosition(parsePosition(text));
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  }
  try {
    return parseTime(text).toISOString();
  } catch {
    throw new InvalidArgumentError(
      `expected ${BOUND_HELP} such as 2024-05-01T12:30:00Z, 'earliest' or 'now' (given '${text}')`,
    );
  }
}

export function registerBackfillCommand(program: Command, io: CliIo): void {
  program
    .command('backfill')
    .description('replay a pipeline’s events of a past range through its queue and worker, with progress')
    .argument('<pipeline>', 'the pipeline to backfill')
    .addOption(
      new Option('--from <target>', `where to start: ${BOUND_HELP}, or 'earliest'`)
        .argParser(parseBound)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--to <target>', `where to stop: ${BOUND_HELP}, or 'now'`)
        .argParser(parseBound)
        .makeOptionMandatory(),
    )
    .option(
      '--id <backfillId>',
      'name the backfill (1 to 36 letters, digits, _ or -); repeating it changes nothing',
    )
    .option('--no-wait', 'register the backfill and return at once, printing its pipeline name')
    .option(
      '--interval-ms <ms>',
      'how often to read the progress while waiting',
      wholeNumber(100, 3_600_000),
      1_000,
    )
    .addHelpText(
      'after',
      [
        '',
        'A backfill is a pipeline record of its own, <pipeline>.backfill.<id>, that feeds the pipeline’s',
        'queue from --from to --to; the same worker handles its events. It progresses only while a',
        'fetcher runs: on AWS the scheduled fetcher, locally `sluice dev`. Times take events at or after',
        '--from and before --to; positions take the events after --from, up to and including --to.',
        'While waiting, Ctrl-C stops the waiting, not the backfill.',
        '',
        'Examples:',
        '  sluice backfill billing --from 2024-05-01T00:00:00Z --to 2024-05-02T00:00:00Z',
        '  sluice backfill billing --from 20240501000000 --to now --id replay-may --no-wait --json',
      ].join('\n'),
    )
    .action((pipeline: string, options: BackfillOptions, command: Command) =>
      runAction(command, io, (context) => backfill(context, pipeline, options)),
    );
}

async function backfill(context: CliContext, pipeline: string, options: BackfillOptions): Promise<void> {
  const store = context.pipelineStore();
  let registered: Awaited<ReturnType<typeof registerBackfill>>;
  try {
    registered = await registerBackfill(store, {
      pipeline,
      from: options.from,
      to: options.to,
      ...(options.id === undefined ? {} : { backfillId: options.id }),
    });
  } catch (error) {
    if (error instanceof InvalidDefinitionError) throw new UsageError(error.problems.join('; '));
    throw error;
  }
  const ids = {
    backfillId: registered.backfillId,
    backfillPipeline: registered.backfillPipeline,
    from: formatPosition(registered.from),
    to: formatPosition(registered.stopAt),
    created: registered.created,
  };
  if (!options.wait) {
    if (context.json) context.printJson(ids);
    else context.print(registered.backfillPipeline);
    return;
  }
  if (!context.json) {
    context.io.stderr.write(
      `${registered.created ? 'Registered' : 'Following'} backfill ${registered.backfillPipeline} from ${ids.from} to ${ids.to}; it runs while a fetcher runs. Ctrl-C stops waiting.\n`,
    );
  }
  const progress = await follow(context, store, registered.backfillPipeline, options.intervalMs);
  if (progress === undefined) {
    if (!context.json)
      context.io.stderr.write(
        `Stopped waiting; backfill ${registered.backfillPipeline} goes on (see sluice status ${registered.backfillPipeline}).\n`,
      );
    return;
  }
  const result = {
    ...ids,
    status: progress.status,
    eventsSent: progress.eventsSent,
    ...(progress.eventsTotal === undefined ? {} : { eventsTotal: progress.eventsTotal }),
  };
  if (context.json) context.printJson(result);
  else
    context.print(
      `Backfill ${registered.backfillPipeline} completed: ${progress.eventsSent} event(s) sent to the queue.`,
    );
}

/**
 * Reads the backfill's progress until it completes, drawing a bar on a terminal; resolves to the last
 * progress, or `undefined` when interrupted.
 */
async function follow(
  context: CliContext,
  store: PipelineStore,
  backfillPipeline: string,
  intervalMs: number,
): Promise<BackfillProgress | undefined> {
  const eventLog = optionalEventLog(context);
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  process.once('SIGINT', onInterrupt);
  const bar =
    context.io.stderr.isTTY && !context.json
      ? new SingleBar({
          stream: context.io.stderr as NodeJS.WritableStream,
          format: '{name} [{bar}] {percentage}% | {events} | ETA {eta_text}',
          hideCursor: true,
          clearOnComplete: false,
        })
      : undefined;
  let eventsTotal: number | undefined;
  try {
    let first = true;
    for (;;) {
      const progress = await backfillProgress(store, eventLog, backfillPipeline, { countEvents: first });
      first = false;
      eventsTotal ??= progress.eventsTotal;
      const payload = {
        name: backfillPipeline,
        events: `${progress.eventsSent}${eventsTotal === undefined ? '' : `/${eventsTotal}`} events`,
        eta_text: progress.etaMs === undefined ? '?' : humanDuration(progress.etaMs),
      };
      const value = Math.round(progress.fraction * 1000);
      if (bar && !bar.isActive) bar.start(1000, value, payload);
      else bar?.update(value, payload);
      // Completed, and its last run has recorded what it sent.
      if (progress.status === 'completed' && progress.runsInProgress === 0)
        return { ...progress, ...(eventsTotal === undefined ? {} : { eventsTotal }) };
      await delay(intervalMs, undefined, { signal: stop.signal }).catch(() => undefined);
      if (stop.signal.aborted) return undefined;
    }
  } finally {
    bar?.stop();
    process.off('SIGINT', onInterrupt);
  }
}

function optionalEventLog(context: CliContext): EventLog | undefined {
  return context.optionalEventLogTable() ? context.eventLog() : undefined;
}
