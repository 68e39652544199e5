import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { EventInput } from '../../lib';
import { MAX_ITEM_BYTES, MAX_TRANSACTION_ITEMS } from '../../lib/event-log/constants';
import { assertEventType, assertStreamName } from '../../lib/event-log/names';
import { type CliContext, runAction } from '../context';
import { UsageError } from '../errors';
import type { CliIo } from '../io';

interface PublishOptions {
  readonly type?: string;
  readonly partitionKey?: string;
  readonly file?: string;
  readonly atomic?: boolean;
}

/** Where a piece of input came from, for messages: `argument 2`, `line 7 of events.jsonl`. */
type Where = string;

const EVENT_KEYS = new Set(['type', 'data', 'partitionKey']);

export function registerPublish(program: Command, io: CliIo): void {
  program
    .command('publish')
    .description('commit events to a stream, from arguments, a file or stdin (JSON lines)')
    .argument('<stream>', 'the stream to commit to')
    .argument('[json...]', 'events as JSON: { type, data, partitionKey? }, or plain data with --type')
    .option('-t, --type <type>', 'the event type; each argument or line is then the data of one event')
    .option('-k, --partition-key <key>', 'the partition key of every event that does not name its own')
    .option('-f, --file <path>', 'read events from a file of JSON lines instead of the arguments')
    .option('--atomic', `commit all events at once, all or none (at most ${MAX_TRANSACTION_ITEMS})`)
    .addHelpText(
      'after',
      [
        '',
        'Without arguments or --file, events are read from stdin, one JSON document per line.',
        'Every line is checked before anything is committed.',
        '',
        'Examples:',
        `  sluice publish orders --type order.placed '{"orderId":"o-1"}' '{"orderId":"o-2"}'`,
        `  sluice publish orders '{"type":"order.placed","data":{"orderId":"o-1"},"partitionKey":"c-1"}'`,
        '  sluice publish orders --file events.jsonl --atomic',
        '  cat events.jsonl | sluice publish orders --json',
      ].join('\n'),
    )
    .action((stream: string, items: string[], options: PublishOptions, command: Command) =>
      runAction(command, io, (context) => publish(context, stream, items, options)),
    );
}

async function publish(
  context: CliContext,
  stream: string,
  items: readonly string[],
  options: PublishOptions,
): Promise<void> {
  asUsage(() => assertStreamName(stream));
  if (options.type !== undefined) asUsage(() => assertEventType(options.type));
  if (options.partitionKey !== undefined)
    asUsage(() => checkPartitionKey(options.partitionKey, '--partition-key'));
  if (items.length > 0 && options.file !== undefined) {
    throw new UsageError(
      `pass events as arguments or with --file, not both (given --file '${options.file}')`,
    );
  }
  const log = context.eventLog();

  let events: EventInput[];
  if (items.length > 0) {
    // Arguments are part of the command line: a bad one is a usage error.
    events = asUsage(() =>
      items.map((text, index) => toEvent(stream, text, `argument ${index + 1}`, options)),
    );
  } else {
    const { text, source } = await readInput(context, options.file);
    events = [];
    for (const [index, line] of text.split(/\r?\n/).entries()) {
      if (line.trim() === '') continue;
      events.push(toEvent(stream, line, `line ${index + 1} of ${source}`, options));
    }
    if (events.length === 0) throw new Error(`nothing to publish: ${source} holds no events`);
  }
  if (options.atomic && events.length > MAX_TRANSACTION_ITEMS) {
    throw new UsageError(
      `--atomic commits at most ${MAX_TRANSACTION_ITEMS} events at once (given ${events.length}); leave out --atomic to commit them one by one`,
    );
  }

  const ids = options.atomic ? await log.commit(events) : await log.commitBatched(events);
  if (context.json) context.printJson({ ids });
  else for (const id of ids) context.print(id);
}

async function readInput(
  context: CliContext,
  file: string | undefined,
): Promise<{ text: string; source: string }> {
  if (file !== undefined) {
    try {
      return { text: await readFile(file, 'utf8'), source: file };
    } catch (error) {
      throw new UsageError(`cannot read --file '${file}': ${(error as Error).message}`);
    }
  }
  if (context.io.stdin.isTTY) {
    throw new UsageError(
      'nothing to publish: pass events as arguments, with --file <path>, or as JSON lines on stdin',
    );
  }
  let text = '';
  for await (const chunk of context.io.stdin)
    text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
  return { text, source: 'stdin' };
}

/** Reads one event from JSON text; throws naming where it came from and what is wrong. */
function toEvent(stream: string, text: string, where: Where, options: PublishOptions): EventInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where} is not valid JSON: ${(error as Error).message}`);
  }
  let event: EventInput;
  if (options.type !== undefined) {
    event = {
      stream,
      type: options.type,
      data: value,
      ...(options.partitionKey === undefined ? {} : { partitionKey: options.partitionKey }),
    };
  } else {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !('type' in value)) {
      throw new Error(
        `${where} is not an event { type, data, partitionKey? }; pass --type <type> to publish plain data`,
      );
    }
    const record = value as Record<string, unknown>;
    const unknown = Object.keys(record).filter((key) => !EVENT_KEYS.has(key));
    if (unknown.length > 0) {
      throw new Error(
        `${where} has unknown key(s) ${unknown.join(', ')}; an event has type, data, partitionKey`,
      );
    }
    if (!('data' in record)) throw new Error(`${where} has no data`);
    const partitionKey = record.partitionKey ?? options.partitionKey;
    event = {
      stream,
      type: record.type as string,
      data: record.data,
      ...(partitionKey === undefined ? {} : { partitionKey: partitionKey as string }),
    };
  }
  try {
    assertEventType(event.type);
    if (event.partitionKey !== undefined) checkPartitionKey(event.partitionKey, 'partitionKey');
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(event.data));
  if (bytes > MAX_ITEM_BYTES) {
    throw new Error(
      `${where}: data is ${bytes} bytes, more than an event may hold (${MAX_ITEM_BYTES} bytes)`,
    );
  }
  return event;
}

function checkPartitionKey(value: unknown, name: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw new Error(`${name} must be a string of 1 to 256 characters (given ${JSON.stringify(value)})`);
  }
}

/** Runs a check of the command line, turning what it throws into a `UsageError`. */
function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
