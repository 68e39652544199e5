import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import { type Position, positionAtTime, type StoredEvent } from '../../lib';
import { assertStreamName } from '../../lib/event-log/names';
import { formatPosition } from '../../lib/time/position';
import { collectList, parseTarget, wholeNumber } from '../arguments';
import { type CliContext, runAction } from '../context';
import { UsageError } from '../errors';
import type { CliIo } from '../io';

interface TailOptions {
  readonly types?: string[];
  readonly from?: Position;
  readonly intervalMs: number;
  readonly limit?: number;
}

const PAGE_SIZE = 500;
const DEFAULT_INTERVAL_MS = 1000;

export function registerTail(program: Command, io: CliIo): void {
  program
    .command('tail')
    .description('follow a stream: print its new events as they are committed, until Ctrl-C')
    .argument('<stream>', 'the stream to follow')
    .option('--types <types>', 'only events of these types (repeat, or separate with commas)', collectList)
    .option(
      '--from <target>',
      "start here instead of now: a position yyyyMMddHH0000[/eventId], an ISO 8601 time or 'earliest'",
      (text: string) => parseTarget(text),
    )
    .option(
      '--interval-ms <ms>',
      'how long to wait between reads once caught up',
      wholeNumber(10, 3_600_000),
      DEFAULT_INTERVAL_MS,
    )
    .option('-n, --limit <n>', 'stop after this many events', wholeNumber(1))
    .addHelpText(
      'after',
      [
        '',
        'Events appear once settled, a moment (the event log’s settle window) after their commit.',
        '',
        'Examples:',
        '  sluice tail orders',
        '  sluice tail orders --types order.placed,order.paid --json | jq .data',
        '  sluice tail orders --from 2024-05-01T12:00:00Z --limit 100',
      ].join('\n'),
    )
    .action((stream: string, options: TailOptions, command: Command) =>
      runAction(command, io, (context) => tail(context, stream, options)),
    );
}

async function tail(context: CliContext, stream: string, options: TailOptions): Promise<void> {
  try {
    assertStreamName(stream);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const log = context.eventLog();
  let position = options.from ?? positionAtTime(Date.now());
  if (!context.json) {
    context.io.stderr.write(
      `Following stream '${stream}' from ${formatPosition(position)}; Ctrl-C to stop.\n`,
    );
  }

  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  process.once('SIGINT', onInterrupt);
  let printed = 0;
  try {
    while (!stop.signal.aborted) {
      const wanted = options.limit === undefined ? PAGE_SIZE : Math.min(PAGE_SIZE, options.limit - printed);
      const page = await log.readAfter(stream, position, {
        limit: wanted,
        ...(options.types ? { types: options.types } : {}),
      });
      for (const event of page.events) context.print(context.json ? jsonLine(event) : textLine(event));
      printed += page.events.length;
      position = page.position;
      if (options.limit !== undefined && printed >= options.limit) break;
      if (page.caughtUp) {
        await delay(options.intervalMs, undefined, { signal: stop.signal }).catch(() => undefined);
      }
    }
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

function jsonLine(event: StoredEvent): string {
  return JSON.stringify({
    id: event.id,
    stream: event.stream,
    type: event.type,
    time: event.time.toISOString(),
    data: event.data,
    ...(event.partitionKey === undefined ? {} : { partitionKey: event.partitionKey }),
  });
}

function textLine(event: StoredEvent): string {
  const key = event.partitionKey === undefined ? '' : ` [${event.partitionKey}]`;
  return `${event.time.toISOString()} ${event.type} ${event.id}${key} ${JSON.stringify(event.data)}`;
}
