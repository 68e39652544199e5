import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { FailureStore } from '../../lib/failed/failure-store';
import { type RedriveResult, redriveDeadLetters } from '../../lib/failed/redrive';
import { type RedriveFailuresResult, redriveFailures } from '../../lib/failed/redrive-failures';
import type { RedriveFilter } from '../../lib/failed/redrive-filter';
import { collectList, parseTime, parseUrl, positiveNumber, wholeNumber } from '../arguments';
import { type CliContext, runAction } from '../context';
import { deadLetterQueueUrlOf, visibleMessages } from '../dead-letter-queue';
import { UsageError } from '../errors';
import type { CliIo } from '../io';

interface RedriveCommandOptions {
  readonly deadLetterQueueUrl?: string;
  readonly queueUrl?: string;
  readonly type?: string[];
  readonly errorName?: string;
  readonly errorIncludes?: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly dryRun?: boolean;
  readonly rate: number;
  readonly max?: number;
  readonly source?: string;
}

/** Where a redrive reads the dead events. */
const SOURCES = ['records', 'dead-letter-queue'] as const;
type Source = (typeof SOURCES)[number];

const DEFAULT_RATE = 10;
const MAX_RATE = 3000;
const PROGRESS_INTERVAL_MS = 250;

export function registerRedrive(program: Command, io: CliIo): void {
  program
    .command('redrive')
    .description(
      'send dead events back to a pipeline’s queue for a fresh start: from their failure records (the standard wiring, where the failed-event function consumes the dead-letter queue), or from the dead-letter queue itself',
    )
    .argument('<pipeline>', 'the pipeline whose dead events to move')
    .option('--queue-url <url>', 'the pipeline’s queue (default: read from the state table)', parseUrl)
    .option(
      '--dead-letter-queue-url <url>',
      'the dead-letter queue (default: read from the queue’s redrive policy)',
      parseUrl,
    )
    .option('--type <types>', 'only events of these types (repeat, or separate with commas)', collectList)
    .option('--error-name <name>', 'only events whose last error has this name, such as TimeoutError')
    .option('--error-includes <text>', 'only events whose last error message contains this text')
    .option('--from <time>', 'only events committed at or after this ISO 8601 time', parseTime)
    .option('--to <time>', 'only events committed before this ISO 8601 time', parseTime)
    .option(
      '--source <source>',
      'where the dead events are: records (the failure records in the state table) or dead-letter-queue (default: dead-letter-queue with --dead-letter-queue-url, else records)',
    )
    .option('--dry-run', 'count what would move, and change nothing')
    .option(
      `--rate <messages/s>`,
      `the most messages sent per second, above 0, at most ${MAX_RATE}`,
      positiveNumber(MAX_RATE),
      DEFAULT_RATE,
    )
    .option(
      '--max <n>',
      'the most events to move (records), or dead-letter messages to examine (dead-letter-queue)',
      wholeNumber(1),
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  sluice redrive billing --error-name TimeoutError --dry-run',
        '  sluice redrive billing --type order.placed --from 2024-05-01T00:00:00Z --rate 50',
        '  sluice redrive billing --source dead-letter-queue --error-includes timeout',
      ].join('\n'),
    )
    .action((pipeline: string, options: RedriveCommandOptions, command: Command) =>
      runAction(command, io, (context) => redrive(context, pipeline, options)),
    );
}

async function redrive(context: CliContext, pipeline: string, options: RedriveCommandOptions): Promise<void> {
  const source = sourceOf(options);
  const sqs = context.sqs();
  const queueUrl = options.queueUrl ?? (await pipelineQueueUrl(context, pipeline));
  const filter: RedriveFilter = {
    ...(options.type ? { types: options.type } : {}),
    ...(options.errorName ? { errorName: options.errorName } : {}),
    ...(options.errorIncludes ? { errorMessageIncludes: options.errorIncludes } : {}),
    ...(options.from ? { from: options.from } : {}),
    ...(options.to ? { to: options.to } : {}),
  };
  if (source === 'records') {
    const result = await redriveFailures({
      store: new FailureStore({ tableName: context.stateTable(), client: context.dynamodb() }),
      sqs,
      pipeline,
      queueUrl,
      filter,
      dryRun: options.dryRun === true,
      maxMessagesPerSecond: options.rate,
      ...(options.max === undefined ? {} : { maxEvents: options.max }),
    });
    if (context.json) context.printJson({ pipeline, source, queueUrl, ...result });
    else context.print(recordsSummary(result, queueUrl));
    return;
  }
  const deadLetterQueueUrl = options.deadLetterQueueUrl ?? (await deadLetterQueueUrlOf(sqs, queueUrl));
  if (deadLetterQueueUrl === undefined) {
    throw new Error(
      `queue ${queueUrl} has no redrive policy naming a dead-letter queue; pass --dead-letter-queue-url`,
    );
  }
  const run = () =>
    redriveDeadLetters({
      sqs,
      deadLetterQueueUrl,
      queueUrl,
      filter,
      dryRun: options.dryRun === true,
      maxMessagesPerSecond: options.rate,
      ...(options.max === undefined ? {} : { maxMessages: options.max }),
    });
  const showProgress = !context.json && context.io.stderr.isTTY === true;
  const result = showProgress
    ? await withProgressBar(context, deadLetterQueueUrl, options.max, run)
    : await run();

  if (context.json) {
    context.printJson({ pipeline, source, queueUrl, deadLetterQueueUrl, ...result });
    return;
  }
  context.print(summary(result, queueUrl));
}

async function pipelineQueueUrl(context: CliContext, pipeline: string): Promise<string> {
  const store = context.pipelineStore();
  const found = await store.getPipeline(pipeline);
  if (!found) {
    throw new Error(
      `no pipeline named '${pipeline}' in state table '${store.tableName}'; or pass --queue-url`,
    );
  }
  return found.queueUrl;
}

/**
 * Runs the redrive under a progress bar of the dead-letter messages examined, read from the queue's
 * count of waiting messages (they leave it as the redrive receives them).
 */
async function withProgressBar(
  context: CliContext,
  deadLetterQueueUrl: string,
  max: number | undefined,
  run: () => Promise<RedriveResult>,
): Promise<RedriveResult> {
  const sqs = context.sqs();
  const waiting = await visibleMessages(sqs, deadLetterQueueUrl);
  const total = Math.min(waiting, max ?? waiting);
  const bar = new cliProgress.SingleBar(
    {
      format: 'redrive [{bar}] {value}/{total} messages examined',
      stream: context.io.stderr as NodeJS.WritableStream,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  const timer = setInterval(() => {
    visibleMessages(sqs, deadLetterQueueUrl)
      .then((left) => bar.update(Math.min(total, Math.max(0, waiting - left))))
      .catch(() => undefined);
  }, PROGRESS_INTERVAL_MS);
  try {
    const result = await run();
    bar.update(Math.min(total, result.examined));
    return result;
  } finally {
    clearInterval(timer);
    bar.stop();
  }
}

function summary(result: RedriveResult, queueUrl: string): string {
  return result.dryRun
    ? `Dry run: ${result.moved} events would move back to ${queueUrl} and ${result.kept} would stay (${result.examined} messages examined, ${result.malformed} malformed).`
    : `Moved ${result.moved} events back to ${queueUrl}; ${result.kept} stay in the dead-letter queue (${result.examined} messages examined, ${result.messagesDeleted} deleted, ${result.malformed} malformed left in place).`;
}

function sourceOf(options: RedriveCommandOptions): Source {
  if (options.source === undefined)
    return options.deadLetterQueueUrl === undefined ? 'records' : 'dead-letter-queue';
  if (!(SOURCES as readonly string[]).includes(options.source)) {
    throw new UsageError(`--source must be one of ${SOURCES.join(', ')} (given '${options.source}')`);
  }
  return options.source as Source;
}

function recordsSummary(result: RedriveFailuresResult, queueUrl: string): string {
  const left = `${result.pending} pending, ${result.alreadyRedriven} redriven before, ${result.dataOmitted} without data`;
  return result.dryRun
    ? `Dry run: ${result.moved} events would go back to ${queueUrl} (${result.examined} failure records examined; ${left}).`
    : `Sent ${result.moved} events back to ${queueUrl} (${result.examined} failure records examined; ${left}).`;
}
