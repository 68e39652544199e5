import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program';

/** Runs `sluice` in-process with no AWS settings at all: nothing here may reach the network. */
async function sluice(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const exits: number[] = [];
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([]),
    env,
    exit: (exitCode) => exits.push(exitCode),
  });
  return { code, stdout, stderr, exits };
}

const tables = ['--event-log-table', 'events', '--state-table', 'state'];

describe('sluice command line', () => {
  it('lists every command in its help and exits 0', async () => {
    const { code, stdout } = await sluice(['--help']);

    expect(code).toBe(0);
    for (const command of ['status', 'publish', 'seek', 'redrive', 'tail']) {
      expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(stdout).toContain('--endpoint <url>');
  });

  it('shows the global options in the help of a command', async () => {
    const { code, stdout } = await sluice(['redrive', '--help']);

    expect(code).toBe(0);
    expect(stdout).toContain('--dry-run');
    expect(stdout).toContain('Global Options:');
    expect(stdout).toContain('--profile <name>');
  });

  it('prints the version', async () => {
    const { code, stdout } = await sluice(['--version']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it.each([
    {
      name: 'fails when the command is unknown',
      args: ['stauts'],
      message: "error: unknown command 'stauts'\n(Did you mean status?)\n",
    },
    {
      name: 'fails when an option is unknown',
      args: ['status', '--verbose'],
      message: "error: unknown option '--verbose'\n",
    },
    {
      name: 'fails when the stream is missing',
      args: ['publish'],
      message: "error: missing required argument 'stream'\n",
    },
    {
      name: 'fails when the seek target is neither a position nor a time',
      args: ['seek', 'billing', 'yesterday', '--yes', ...tables],
      message:
        "error: command-argument value 'yesterday' is invalid for argument 'target'. expected a position yyyyMMddHH0000[/eventId], an ISO 8601 time such as 2024-05-01T12:30:00Z, 'earliest' or 'now' (given 'yesterday')\n",
    },
    {
      name: 'fails when the position is not at the start of an hour',
      args: ['seek', 'billing', '20240501123000', '--yes', ...tables],
      message:
        'error: command-argument value \'20240501123000\' is invalid for argument \'target\'. invalid position: timeBucket must be yyyyMMddHH0000 in UTC (given {"timeBucket":"20240501123000"})\n',
    },
    {
      name: 'fails when the time is not a real date',
      args: ['seek', 'billing', '2024-02-31T00:00:00Z', '--yes', ...tables],
      message:
        "error: command-argument value '2024-02-31T00:00:00Z' is invalid for argument 'target'. expected an ISO 8601 time such as 2024-05-01T12:30:00Z (given '2024-02-31T00:00:00Z')\n",
    },
    {
      name: 'fails when the rate is not a number',
      args: ['redrive', 'billing', '--rate', 'fast'],
      message:
        "error: option '--rate <messages/s>' argument 'fast' is invalid. expected a number above 0, at most 3000 (given 'fast')\n",
    },
    {
      name: 'fails when the rate is above the limit',
      args: ['redrive', 'billing', '--rate', '5000'],
      message:
        "error: option '--rate <messages/s>' argument '5000' is invalid. expected a number above 0, at most 3000 (given '5000')\n",
    },
    {
      name: 'fails when --max is not a whole number',
      args: ['redrive', 'billing', '--max', '2.5'],
      message:
        "error: option '--max <n>' argument '2.5' is invalid. expected a whole number 1 or more (given '2.5')\n",
    },
    {
      name: 'fails when a redrive bound is not an ISO time',
      args: ['redrive', 'billing', '--from', 'last tuesday'],
      message:
        "error: option '--from <time>' argument 'last tuesday' is invalid. expected an ISO 8601 time such as 2024-05-01T12:30:00Z (given 'last tuesday')\n",
    },
    {
      name: 'fails when the tail limit is 0',
      args: ['tail', 'orders', '--limit', '0'],
      message:
        "error: option '-n, --limit <n>' argument '0' is invalid. expected a whole number 1 or more (given '0')\n",
    },
    {
      name: 'fails when the endpoint is not a URL',
      args: ['status', '--endpoint', 'localhost:8000'],
      message:
        "error: option '--endpoint <url>' argument 'localhost:8000' is invalid. expected an http(s) URL (given 'localhost:8000')\n",
    },
    {
      name: 'fails when the queue URL is not a URL',
      args: ['redrive', 'billing', '--queue-url', 'billing-queue'],
      message:
        "error: option '--queue-url <url>' argument 'billing-queue' is invalid. expected an http(s) URL (given 'billing-queue')\n",
    },
    {
      name: 'fails when a stop position is set and cleared at once',
      args: ['seek', 'billing', 'now', '--stop-at', 'now', '--clear-stop-at', '--yes'],
      message: "error: option '--stop-at <target>' cannot be used with option '--clear-stop-at'\n",
    },
    {
      name: 'fails when no state table is given',
      args: ['status'],
      message:
        'error: no state table given: pass --state-table <name>, set SLUICE_STATE_TABLE, or run `sluice dev` in this project\n',
    },
    {
      name: 'fails when no event log table is given',
      args: ['tail', 'orders'],
      message:
        'error: no event log table given: pass --event-log-table <name>, set SLUICE_EVENT_LOG_TABLE, or run `sluice dev` in this project\n',
    },
    {
      name: 'fails when --json seeks without --yes',
      args: ['seek', 'billing', 'earliest', '--json', ...tables],
      message:
        'error: seek asks for confirmation, which --json output cannot: pass --yes to seek without asking\n',
    },
    {
      name: 'fails when the stream name is invalid',
      args: ['publish', 'orders/eu', '--type', 'order.placed', '{}', ...tables],
      message:
        'error: stream name "orders/eu" is invalid: use 1 to 128 letters, digits, dots, underscores or hyphens, starting with a letter or digit (no "#" or "/", which the log uses in its keys)\n',
    },
    {
      name: 'fails when an event argument is not JSON',
      args: ['publish', 'orders', '--type', 'order.placed', '{"orderId":', ...tables],
      message: 'error: argument 1 is not valid JSON: Unexpected end of JSON input\n',
    },
    {
      name: 'fails when an event argument has no type and --type is not given',
      args: ['publish', 'orders', '{"orderId":"o-1"}', ...tables],
      message:
        'error: argument 1 is not an event { type, data, partitionKey? }; pass --type <type> to publish plain data\n',
    },
    {
      name: 'fails when events are given both as arguments and in a file',
      args: ['publish', 'orders', '--type', 'order.placed', '{}', '--file', 'events.jsonl', ...tables],
      message: "error: pass events as arguments or with --file, not both (given --file 'events.jsonl')\n",
    },
  ])('$name', async ({ args, message }) => {
    const { code, stderr, stdout, exits } = await sluice(args);

    expect(stderr).toBe(message);
    expect(code).toBe(2);
    expect(exits).toEqual([2]);
    expect(stdout).toBe('');
  });

  it('fails with usage and exit code 2 when no command is given', async () => {
    const { code, stderr } = await sluice([]);

    expect(code).toBe(2);
    expect(stderr).toContain('Usage: sluice [options] [command]');
  });

  it('fails with exit code 1, and no stack trace, when the event log cannot be reached', async () => {
    const { code, stderr } = await sluice(
      ['publish', 'orders', '--type', 'order.placed', '{}', '--endpoint', 'http://127.0.0.1:9', ...tables],
      { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_MAX_ATTEMPTS: '1' },
    );

    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: .*ECONNREFUSED/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
