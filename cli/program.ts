import { Command, CommanderError, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { parseUrl } from './arguments';
import { registerBackfillCommand } from './commands/backfill';
import { registerDev } from './commands/dev';
import { registerPublish } from './commands/publish';
import { registerRedrive } from './commands/redrive';
import { registerSeek } from './commands/seek';
import { registerStatus } from './commands/status';
import { registerTail } from './commands/tail';
import { EXIT_CODE } from './errors';
import type { CliIo } from './io';

/** Commander's codes for a run that ended well: help or the version was asked for. */
const SUCCESS_CODES: ReadonlySet<string> = new Set(['commander.helpDisplayed', 'commander.version']);

/**
 * The exit code of a run that commander ended: 0 for help and the version, 2 for its usage errors
 * (unknown command or option, missing or invalid value), and the code a command chose otherwise.
 */
export function exitCodeOf(error: CommanderError): number {
  if (SUCCESS_CODES.has(error.code)) return EXIT_CODE.ok;
  if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT_CODE.ok : EXIT_CODE.usage;
  if (error.code.startsWith('commander.')) return EXIT_CODE.usage;
  return error.exitCode;
}

/**
 * The `sluice` command line. It never exits the process itself: when a run ends early (help, a usage
 * error, a failed command) it calls `io.exit` with the code, then rejects with a `CommanderError`
 * carrying it; {@link runCli} turns that into the exit code.
 *
 * @example
 * ```ts
 * await buildProgram({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env })
 *   .parseAsync(['status', '--json'], { from: 'user' });
 * ```
 */
export function buildProgram(io: CliIo): Command {
  const program = new Command('sluice')
    .description('Operate Sluice pipelines: status, publish, seek, redrive and tail.')
    .version(packageJson.version, '-V, --version', 'print the version')
    .configureOutput({
      writeOut: (text) => {
        io.stdout.write(text);
      },
      writeErr: (text) => {
        io.stderr.write(text);
      },
    })
    .exitOverride((error) => {
      const code = exitCodeOf(error);
      io.exit?.(code);
      throw new CommanderError(code, error.code, error.message);
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showSuggestionAfterError(true)
    .option('--event-log-table <name>', 'the event log table (default: $SLUICE_EVENT_LOG_TABLE)')
    .option('--state-table <name>', 'the pipeline state table (default: $SLUICE_STATE_TABLE)')
    .addOption(
      new Option(
        '--endpoint <url>',
        'send DynamoDB and SQS calls to this URL, such as a local emulator (default: $AWS_ENDPOINT_URL_DYNAMODB, $AWS_ENDPOINT_URL_SQS, $AWS_ENDPOINT_URL)',
      ).argParser(parseUrl),
    )
    .addOption(
      new Option(
        '--dynamodb-endpoint <url>',
        'send DynamoDB calls to this URL (wins over --endpoint; default: $AWS_ENDPOINT_URL_DYNAMODB)',
      ).argParser(parseUrl),
    )
    .addOption(
      new Option(
        '--sqs-endpoint <url>',
        'send SQS calls to this URL (wins over --endpoint; default: $AWS_ENDPOINT_URL_SQS)',
      ).argParser(parseUrl),
    )
    .option('--region <region>', 'the AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile’s)')
    .option('--profile <name>', 'the AWS profile for credentials and region (default: $AWS_PROFILE)')
    .option('--json', 'print JSON for scripts instead of text')
    .addHelpText(
      'after',
      [
        '',
        'With no endpoint given, commands run in a project where `sluice dev` runs use its emulators and',
        'tables (it writes them to .sluice/dev.json); against endpoints on this machine no AWS credentials',
        'are needed.',
        '',
        'Exit codes: 0 success, 1 the command failed (or status found a problem), 2 the command line is wrong.',
        '',
        'Examples:',
        '  sluice status --state-table sluice-state',
        '  sluice publish orders --type order.placed \'{"orderId":"o-1"}\'',
        '  sluice tail orders --json',
      ].join('\n'),
    );

  registerStatus(program, io);
  registerPublish(program, io);
  registerSeek(program, io);
  registerRedrive(program, io);
  registerTail(program, io);
  registerBackfillCommand(program, io);
  registerDev(program, io);
  return program;
}

/**
 * Runs the command line `args` (without the node and script paths) and resolves to its exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
 * ```
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...args], { from: 'user' });
    return EXIT_CODE.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    // Commander reports everything through the exit override; anything else is a bug, still no stack.
    io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    io.exit?.(EXIT_CODE.failed);
    return EXIT_CODE.failed;
  }
}
