import { createInterface } from 'node:readline';
import { type Command, Option } from 'commander';
import type { Position } from '../../lib';
import { formatPosition } from '../../lib/time/position';
import { parseTarget } from '../arguments';
import { type CliContext, runAction } from '../context';
import { UsageError } from '../errors';
import type { CliIo } from '../io';

interface SeekOptions {
  readonly stopAt?: Position;
  readonly clearStopAt?: boolean;
  readonly reason?: string;
  readonly yes?: boolean;
}

const TARGET_HELP = "a position yyyyMMddHH0000[/eventId], an ISO 8601 time, 'earliest' or 'now'";

export function registerSeek(program: Command, io: CliIo): void {
  program
    .command('seek')
    .description('move a pipeline to a position or a time, forwards or back (asks for confirmation)')
    .argument('<pipeline>', 'the pipeline to move')
    .argument('<target>', TARGET_HELP, (text: string) => parseTarget(text))
    .addOption(
      new Option('--stop-at <target>', `stop the pipeline there: ${TARGET_HELP}`)
        .argParser((text: string) => parseTarget(text))
        .conflicts('clearStopAt'),
    )
    .option('--clear-stop-at', 'remove the pipeline’s stop position, so that it runs on')
    .option('--reason <text>', 'why, kept in the seek record')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        "  sluice seek billing 2024-05-01T00:00:00Z --reason 'replay 1 May'",
        '  sluice seek billing earliest --stop-at 2024-05-02T00:00:00Z --yes --json',
      ].join('\n'),
    )
    .action((pipeline: string, target: Position, options: SeekOptions, command: Command) =>
      runAction(command, io, (context) => seek(context, pipeline, target, options)),
    );
}

async function seek(
  context: CliContext,
  pipeline: string,
  target: Position,
  options: SeekOptions,
): Promise<void> {
  if (context.json && !options.yes) {
    throw new UsageError(
      'seek asks for confirmation, which --json output cannot: pass --yes to seek without asking',
    );
  }
  const store = context.pipelineStore();
  const current = await store.getState(pipeline);
  if (!current) throw new Error(`no pipeline named '${pipeline}' in state table '${store.tableName}'`);

  const from = formatPosition(current.position);
  const to = formatPosition(target);
  const stopText =
    options.stopAt !== undefined
      ? `, stopping at ${formatPosition(options.stopAt)}`
      : options.clearStopAt
        ? ', with no stop position'
        : '';
  if (!options.yes) {
    context.io.stderr.write(`Move pipeline '${pipeline}' from ${from} to ${to}${stopText}? [y/N] `);
    const answer = await readLine(context.io.stdin);
    if (!/^y(es)?$/i.test(answer?.trim() ?? '')) {
      throw new Error(`seek of pipeline '${pipeline}' cancelled; nothing changed`);
    }
  }

  const state = await store.seek(pipeline, target, {
    ...(options.stopAt !== undefined
      ? { stopAt: options.stopAt }
      : options.clearStopAt
        ? { stopAt: null }
        : {}),
    ...(options.reason === undefined ? {} : { reason: options.reason }),
  });
  const result = {
    pipeline,
    from,
    to: formatPosition(state.position),
    stopAt: state.stopAt ? formatPosition(state.stopAt) : null,
    version: state.version,
  };
  if (context.json) context.printJson(result);
  else context.print(`Moved pipeline '${pipeline}' from ${from} to ${result.to}${stopText}.`);
}

/** The first line of a stream, or `undefined` when it ends first. */
async function readLine(input: NodeJS.ReadableStream): Promise<string | undefined> {
  const lines = createInterface({ input, terminal: false });
  try {
    for await (const line of lines) return line;
    return undefined;
  } finally {
    lines.close();
  }
}
