import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program';
import { createWorker, EventLog, parsePosition, positionAtTime } from '../../lib';
import { parseBackfillRequest } from '../../lib/backfill/request';
import { Fetcher } from '../../lib/fetcher/fetcher';
import { validateLocalPipelineOptions, validateMappingOptions } from '../../lib/local';
import { resolvePipeline } from '../../lib/pipeline/definition';
import { PipelineStore } from '../../lib/state/pipeline-store';
import { assertEventId, eventIdToTime } from '../../lib/time/event-id';

// The bad-input corpus, part one: inputs refused before anything reaches AWS. Each case names the
// error fragment it expects, which names the problem and the offending value. Part two, inputs that
// reach a queue or a missing resource, is test/integration/bad-input.test.ts.

// Nothing here reaches the network: every input is refused before a request is sent.
const offline = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
const log = new EventLog({ tableName: 'events', client: offline });
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/billing';
const pipeline = (overrides: Record<string, unknown>) => ({
  name: 'billing',
  stream: 'orders',
  queueUrl: QUEUE_URL,
  ...overrides,
});

/** The message of what `attempt` throws or rejects with. */
async function refusal(attempt: () => unknown): Promise<string> {
  try {
    await attempt();
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
  throw new Error('expected the input to be refused');
}

/** Runs `sluice` in-process with no AWS settings: resolves to its exit code and error output. */
async function sluice(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: () => true },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([]),
    env: {},
    exit: () => {},
  });
  return { code, stderr };
}

const cases: readonly { readonly input: string; readonly attempt: () => unknown; readonly error: string }[] =
  [
    // Events.
    {
      input: 'an event over the 400 KB item limit',
      attempt: () => log.commit({ stream: 'orders', type: 'big', data: 'x'.repeat(500_000) }),
      error:
        "TooLargeError: event of type 'big' on stream 'orders' is 500078 bytes stored, over the limit of 409600",
    },
    {
      input: 'a stream name with a space',
      attempt: () => log.commit({ stream: 'bad stream!', type: 'order', data: 1 }),
      error: 'stream name "bad stream!" is invalid',
    },
    {
      input: 'an empty event type',
      attempt: () => log.commit({ stream: 'orders', type: '', data: 1 }),
      error: 'event type name "" is invalid',
    },
    {
      input: 'an event type with a "#", which the log uses in its keys',
      attempt: () => log.commit({ stream: 'orders', type: 'order#placed', data: 1 }),
      error: 'event type name "order#placed" is invalid',
    },
    {
      input: 'data that is not JSON (a BigInt)',
      attempt: () => log.commit({ stream: 'orders', type: 'order', data: { n: 10n } }),
      error: 'data.n is the bigint 10n, which JSON cannot hold',
    },
    {
      input: '101 events in one atomic commit',
      attempt: () =>
        log.commit(Array.from({ length: 101 }, () => ({ stream: 'orders', type: 'order', data: 1 }))),
      error: 'an atomic commit holds at most 100 events and 4194304 bytes (given 101 events',
    },
    {
      input: 'a partition key of 300 characters',
      attempt: () => log.commit({ stream: 'orders', type: 'order', data: 1, partitionKey: 'k'.repeat(300) }),
      error: 'partitionKey must be a string of 1 to 256 characters (given "kkkk',
    },
    // Ids and positions.
    {
      input: 'an event id that is not a UUID',
      attempt: () => assertEventId('not-an-id'),
      error:
        'event id must be a lower-case version 7 UUID, like 018f3a6c-1d2e-7000-8000-000000000000 (given "not-an-id")',
    },
    {
      input: 'a version 1 UUID as an event id',
      attempt: () => eventIdToTime('018f3a6c-1d2e-1000-8000-000000000000'),
      error: '(given "018f3a6c-1d2e-1000-8000-000000000000")',
    },
    {
      input: 'a position that is not a time bucket',
      attempt: () => parsePosition('garbage'),
      error: 'timeBucket must be yyyyMMddHH0000 in UTC (given {"timeBucket":"garbage"})',
    },
    {
      input: 'a position in month 13',
      attempt: () => parsePosition('20241399000000'),
      error: '(given {"timeBucket":"20241399000000"})',
    },
    {
      input: 'a position at an invalid date',
      attempt: () => positionAtTime(new Date('not a date')),
      error: 'an instant must be a valid Date or whole milliseconds since the epoch (given "Invalid Date")',
    },
    // Pipeline configuration, every field.
    {
      input: 'pipeline name with a space',
      attempt: () => resolvePipeline(pipeline({ name: 'bad name' })),
      error:
        'name: name must be 1 to 128 letters, digits, dots, underscores or hyphens, starting with a letter or digit (given "bad name")',
    },
    {
      input: 'pipeline stream empty',
      attempt: () => resolvePipeline(pipeline({ stream: '' })),
      error: 'stream: stream must be 1 to 128 letters',
    },
    {
      input: 'pipeline eventTypes empty',
      attempt: () => resolvePipeline(pipeline({ eventTypes: [] })),
      error: 'eventTypes: Too small: expected array to have >=1 items (given [])',
    },
    {
      input: 'pipeline eventTypes with an empty type',
      attempt: () => resolvePipeline(pipeline({ eventTypes: ['order', ''] })),
      error: 'eventTypes.1: event types must be 1 to 128 letters',
    },
    {
      input: 'pipeline queueUrl not a URL',
      attempt: () => resolvePipeline(pipeline({ queueUrl: 'not a url' })),
      error: 'queueUrl: queueUrl must be an http(s) queue URL (given "not a url")',
    },
    {
      input: 'pipeline fifo on a standard queue',
      attempt: () => resolvePipeline(pipeline({ fifo: true })),
      error: `fifo: fifo is true but the queue ${QUEUE_URL} is a standard queue (given true)`,
    },
    {
      input: 'pipeline start not a known start',
      attempt: () => resolvePipeline(pipeline({ start: 'yesterday' })),
      error: 'start: Invalid input (given "yesterday")',
    },
    {
      input: 'pipeline stopAt time not ISO 8601',
      attempt: () => resolvePipeline(pipeline({ stopAt: { time: 'soon' } })),
      error: 'stopAt.time: Invalid ISO datetime (given "soon")',
    },
    {
      input: 'pipeline bufferSize 0',
      attempt: () => resolvePipeline(pipeline({ bufferSize: 0 })),
      error: 'bufferSize: Too small: expected number to be >=1 (given 0)',
    },
    {
      input: 'pipeline pageSize over 10000',
      attempt: () => resolvePipeline(pipeline({ pageSize: 20_000 })),
      error: 'pageSize: Too big: expected number to be <=10000 (given 20000)',
    },
    {
      input: 'pipeline maxMessageBytes over SQS’s 1 MiB',
      attempt: () => resolvePipeline(pipeline({ maxMessageBytes: 2_000_000 })),
      error: 'maxMessageBytes: Too big: expected number to be <=1048576 (given 2000000)',
    },
    {
      input: 'pipeline maxEventsPerMessage 0',
      attempt: () => resolvePipeline(pipeline({ maxEventsPerMessage: 0 })),
      error: 'maxEventsPerMessage: Too small: expected number to be >=1 (given 0)',
    },
    {
      input: 'pipeline enabled as a string',
      attempt: () => resolvePipeline(pipeline({ enabled: 'yes' })),
      error: 'enabled: Invalid input: expected boolean, received string (given "yes")',
    },
    {
      input: 'pipeline with an unknown field',
      attempt: () => resolvePipeline(pipeline({ colour: 'blue' })),
      error: 'Unrecognized key: "colour"',
    },
    // Backfill requests.
    {
      input: 'a backfill request whose from lies after its to',
      attempt: () =>
        parseBackfillRequest({
          pipeline: 'billing',
          from: '2024-05-02T00:00:00Z',
          to: '2024-05-01T00:00:00Z',
        }),
      error: 'from "2024-05-02T00:00:00Z" lies after to "2024-05-01T00:00:00Z"',
    },
    {
      input: 'a backfill request whose from is not a time',
      attempt: () =>
        parseBackfillRequest({ pipeline: 'billing', from: 'last week', to: '2024-05-01T00:00:00Z' }),
      error:
        'from: expected a position yyyyMMddHH0000[/eventId] or an ISO 8601 time with a zone, such as 2024-05-01T12:30:00Z (given "last week")',
    },
    // The parts' own options.
    {
      input: 'a fetcher lease of 10 ms',
      attempt: () =>
        new Fetcher({
          store: new PipelineStore({ tableName: 'state', client: offline }),
          source: log,
          leaseDurationMs: 10,
        }),
      error: 'leaseDurationMs must be a whole number from 1000 to 3600000 (given 10)',
    },
    {
      input: 'a worker with a concurrency of 0 and a DLQ that is not a URL',
      attempt: () =>
        createWorker(
          {
            handle: () => {},
            pipeline: 'billing',
            stateTable: 'state',
            deadLetterQueueUrl: 'dlq',
            concurrency: 0,
          },
          {},
        ),
      error:
        'deadLetterQueueUrl (or SLUICE_DEAD_LETTER_QUEUE_URL) must be a queue URL (given "dlq"); concurrency must be a whole number from 1 to 1000 (given 0)',
    },
    {
      input: 'an event source batch of 25 on a FIFO queue',
      attempt: () =>
        validateMappingOptions({
          sqs: new SQSClient({ region: 'us-east-1' }),
          queueUrl: `${QUEUE_URL}.fifo`,
          handler: () => {},
          batchSize: 25,
        }),
      error: 'batchSize must be between 1 and 10 for a FIFO queue (given 25)',
    },
    {
      input: 'a local pipeline whose worker times out after 0 s',
      attempt: () =>
        validateLocalPipelineOptions({
          pipeline: { name: 'billing', stream: 'orders' },
          worker: () => {},
          workerTimeoutSeconds: 0,
        }),
      error: 'workerTimeoutSeconds must be between 1 and 900 (given 0)',
    },
    {
      input: 'a local pipeline with a latency that does not exist',
      attempt: () =>
        validateLocalPipelineOptions({
          pipeline: { name: 'billing', stream: 'orders' },
          worker: () => {},
          latency: 'instant' as never,
        }),
      error: `latency must be 'balanced', 'low' or 'economy' (given "instant")`,
    },
  ];

describe('bad input is refused with an error naming the problem and the value', () => {
  it.each(cases)('fails when given $input', async ({ attempt, error }) => {
    expect(await refusal(attempt)).toContain(error);
  });

  it('holds at least 30 cases between its two parts', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });
});

describe('bad command-line arguments exit 2 with an error naming the value', () => {
  it.each([
    {
      input: 'a backfill whose --from lies after its --to',
      args: ['backfill', 'billing', '--from', '2024-05-02T00:00:00Z', '--to', '2024-05-01T00:00:00Z'],
      error: 'from "2024-05-02T00:00:00.000Z" lies after to "2024-05-01T00:00:00.000Z"',
    },
    {
      input: 'a negative --limit',
      args: ['tail', 'orders', '--limit', '-3'],
      error: "argument '-3' is invalid. expected a whole number 1 or more (given '-3')",
    },
    {
      input: 'an --endpoint that is not a URL',
      args: ['status', '--endpoint', 'not a url'],
      error: "argument 'not a url' is invalid. expected an http(s) URL (given 'not a url')",
    },
    {
      input: 'a seek to a target that is neither a position nor a time',
      args: ['seek', 'billing', 'nonsense'],
      error: "value 'nonsense' is invalid for argument 'target'",
    },
    {
      input: 'event data that is not JSON',
      args: ['publish', 'orders', '{"type":"order","data":'],
      error: 'argument 1 is not valid JSON',
    },
  ])('fails when given $input', async ({ args, error }) => {
    // Tables, region and an unreachable endpoint, so that only the bad argument can be refused.
    const settings = ['--state-table', 'state', '--event-log-table', 'events', '--region', 'us-east-1'];
    const endpoint = args.includes('--endpoint') ? [] : ['--endpoint', 'http://127.0.0.1:9'];
    const { code, stderr } = await sluice([...args, ...settings, ...endpoint]);
    expect(code).toBe(2);
    expect(stderr).toContain(error);
  });
});
