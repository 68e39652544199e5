import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PipelineDefinition, type PipelineStart, parsePosition, positionAtTime } from '../../lib';
import { InvalidDefinitionError } from '../../lib/errors';
import { resolvePipeline, startPosition } from '../../lib/pipeline/definition';
import { EventIdGenerator, largestEventIdAt } from '../../lib/time/event-id';

const STANDARD_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/billing';
const FIFO_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/billing.fifo';

/** A minimal valid definition, with some fields replaced (or removed, when set to undefined). */
function definition(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const value: Record<string, unknown> = { name: 'billing', stream: 'orders', queueUrl: STANDARD_QUEUE_URL };
  for (const [key, field] of Object.entries(overrides)) {
    if (field === undefined) delete value[key];
    else value[key] = field;
  }
  return value;
}

const idAt = (iso: string) => new EventIdGenerator({ now: () => Date.parse(iso) }).next();

function rejection(value: unknown): InvalidDefinitionError {
  try {
    resolvePipeline(value);
  } catch (error) {
    if (error instanceof InvalidDefinitionError && error.definition === 'pipeline') return error;
    throw new Error(`expected an InvalidDefinitionError of a pipeline definition, got ${String(error)}`, {
      cause: error,
    });
  }
  throw new Error('expected resolvePipeline to throw an InvalidDefinitionError of a pipeline definition');
}

describe('resolvePipeline', () => {
  it('fills in every default', () => {
    // Prepare
    const minimal = definition();

    // Act
    const resolved = resolvePipeline(minimal);

    // Assess
    expect(resolved).toEqual({
      name: 'billing',
      stream: 'orders',
      queueUrl: STANDARD_QUEUE_URL,
      fifo: false,
      start: 'latest',
      bufferSize: 1_000,
      pageSize: 1_000,
      maxMessageBytes: 65_000,
      maxEventsPerMessage: 100,
      enabled: true,
      earlyDelivery: true,
    });
    expect(resolved).not.toHaveProperty('eventTypes');
    expect(resolved).not.toHaveProperty('stopAt');
  });

  it('sends early on a standard queue by default, never on a FIFO queue', () => {
    expect(resolvePipeline(definition()).earlyDelivery).toBe(true);
    expect(resolvePipeline(definition({ earlyDelivery: false })).earlyDelivery).toBe(false);
    expect(resolvePipeline(definition({ queueUrl: FIFO_QUEUE_URL })).earlyDelivery).toBe(false);
    expect(() => resolvePipeline(definition({ queueUrl: FIFO_QUEUE_URL, earlyDelivery: true }))).toThrow(
      /earlyDelivery is true but the queue .*billing\.fifo is a FIFO queue/,
    );
  });

  it('derives fifo from a queue URL ending in .fifo', () => {
    // Act
    const derived = resolvePipeline(definition({ queueUrl: FIFO_QUEUE_URL }));
    const stated = resolvePipeline(definition({ queueUrl: FIFO_QUEUE_URL, fifo: true }));
    const statedStandard = resolvePipeline(definition({ fifo: false }));

    // Assess
    expect(derived.fifo).toBe(true);
    expect(stated.fifo).toBe(true);
    expect(statedStandard.fifo).toBe(false);
  });

  it('keeps every field given, at the edges of their ranges', () => {
    // Prepare
    const full: PipelineDefinition = {
      name: `b${'x'.repeat(127)}`,
      stream: 'orders.v2_eu-west',
      eventTypes: ['order.placed', 'order.paid'],
      queueUrl: 'http://localhost:9324/000000000000/billing',
      fifo: false,
      start: 'earliest',
      stopAt: { time: '2024-05-01T12:30:00Z' },
      bufferSize: 1_000_000,
      pageSize: 10_000,
      maxMessageBytes: 1_048_576,
      maxEventsPerMessage: 10_000,
      enabled: false,
      earlyDelivery: false,
    };

    // Act
    const resolved = resolvePipeline(full);

    // Assess
    expect(resolved).toEqual({ ...full, stopAt: positionAtTime(Date.parse('2024-05-01T12:30:00Z')) });
  });

  it('accepts the smallest sizes allowed', () => {
    // Act
    const resolved = resolvePipeline(
      definition({ bufferSize: 1, pageSize: 1, maxMessageBytes: 1_024, maxEventsPerMessage: 1 }),
    );

    // Assess
    expect(resolved).toMatchObject({
      bufferSize: 1,
      pageSize: 1,
      maxMessageBytes: 1_024,
      maxEventsPerMessage: 1,
    });
  });

  it('turns stopAt into a position, from a time or from either form of position', () => {
    // Prepare
    const eventId = idAt('2024-05-01T12:10:00.000Z');

    // Act
    const byTime = resolvePipeline(definition({ stopAt: { time: '2024-05-01T14:30:00+02:00' } }));
    const byText = resolvePipeline(definition({ stopAt: { position: `20240501120000/${eventId}` } }));
    const byObject = resolvePipeline(definition({ stopAt: { position: { timeBucket: '20240501120000' } } }));

    // Assess
    expect(byTime.stopAt).toEqual({
      timeBucket: '20240501120000',
      eventId: largestEventIdAt(Date.parse('2024-05-01T12:29:59.999Z')),
    });
    expect(byText.stopAt).toEqual({ timeBucket: '20240501120000', eventId });
    expect(byObject.stopAt).toEqual({ timeBucket: '20240501120000' });
  });

  const outOfBucket = idAt('2024-05-01T13:05:00.000Z');

  // Each case: the definition's overrides, the field path the message must name, and how it must show
  // the value given.
  it.each([
    ['the definition is not an object', null, 'definition', 'null'],
    ['name is missing', { name: undefined }, 'name', 'undefined'],
    ['name is empty', { name: '' }, 'name', '""'],
    ['name starts with a hyphen', { name: '-billing' }, 'name', '"-billing"'],
    ['name has a space', { name: 'bill ing' }, 'name', '"bill ing"'],
    ['name is 129 characters', { name: 'b'.repeat(129) }, 'name', `"${'b'.repeat(129)}"`],
    ['name is a number', { name: 7 }, 'name', '7'],
    ['stream is missing', { stream: undefined }, 'stream', 'undefined'],
    ['stream has a hash', { stream: 'orders#1' }, 'stream', '"orders#1"'],
    ['eventTypes is empty', { eventTypes: [] }, 'eventTypes', '[]'],
    ['eventTypes is a string', { eventTypes: 'order.placed' }, 'eventTypes', '"order.placed"'],
    [
      'an event type has a slash',
      { eventTypes: ['order.placed', 'order/paid'] },
      'eventTypes.1',
      '"order/paid"',
    ],
    ['an event type is empty', { eventTypes: [''] }, 'eventTypes.0', '""'],
    [
      'eventTypes has 101 types',
      { eventTypes: Array.from({ length: 101 }, (_, index) => `t${index}`) },
      'eventTypes',
      '["t0","t1",',
    ],
    ['queueUrl is missing', { queueUrl: undefined }, 'queueUrl', 'undefined'],
    [
      'queueUrl is an ftp URL',
      { queueUrl: 'ftp://sqs.example.com/1/billing' },
      'queueUrl',
      '"ftp://sqs.example.com/1/billing"',
    ],
    [
      'queueUrl is a queue ARN',
      { queueUrl: 'arn:aws:sqs:eu-west-1:123456789012:billing' },
      'queueUrl',
      '"arn:aws:sqs:eu-west-1:123456789012:billing"',
    ],
    [
      'queueUrl has no path',
      { queueUrl: 'https://sqs.eu-west-1.amazonaws.com' },
      'queueUrl',
      '"https://sqs.eu-west-1.amazonaws.com"',
    ],
    ['fifo is a string', { fifo: 'true' }, 'fifo', '"true"'],
    ['start is an unknown word', { start: 'now' }, 'start', '"now"'],
    ['start is a number', { start: 1_714_566_600_000 }, 'start', '1714566600000'],
    ['start is null', { start: null }, 'start', 'null'],
    ['start is an empty object', { start: {} }, 'start', '{}'],
    [
      'start has an unknown key',
      { start: { when: '2024-05-01T12:30:00Z' } },
      'start',
      '{"when":"2024-05-01T12:30:00Z"}',
    ],
    [
      'start has both a time and a position',
      { start: { time: '2024-05-01T12:30:00Z', position: '20240501120000' } },
      'start',
      '{"time":"2024-05-01T12:30:00Z","position":"20240501120000"}',
    ],
    ['start.time is not ISO', { start: { time: '2024-05-01 12:30' } }, 'start.time', '"2024-05-01 12:30"'],
    [
      'start.time has no offset',
      { start: { time: '2024-05-01T12:30:00' } },
      'start.time',
      '"2024-05-01T12:30:00"',
    ],
    [
      'start.time is a date that does not exist',
      { start: { time: '2023-02-29T12:00:00Z' } },
      'start.time',
      '"2023-02-29T12:00:00Z"',
    ],
    [
      'start.time is epoch milliseconds',
      { start: { time: 1_714_566_600_000 } },
      'start',
      '{"time":1714566600000}',
    ],
    ['start.position is malformed', { start: { position: '2024-05-01' } }, 'start.position', '"2024-05-01"'],
    [
      'start.position has a half-hour bucket',
      { start: { position: '20240501123000' } },
      'start.position',
      '"20240501123000"',
    ],
    [
      'start.position is an object whose eventId lies outside its bucket',
      { start: { position: { timeBucket: '20240501120000', eventId: outOfBucket } } },
      'start.position',
      `{"timeBucket":"20240501120000","eventId":"${outOfBucket}"}`,
    ],
    [
      'start.position is an object with an unknown key',
      { start: { position: { timeBucket: '20240501120000', shard: 1 } } },
      'start.position',
      '{"timeBucket":"20240501120000","shard":1}',
    ],
    ['stopAt is a word', { stopAt: 'latest' }, 'stopAt', '"latest"'],
    ['stopAt.time is not ISO', { stopAt: { time: 'tomorrow' } }, 'stopAt.time', '"tomorrow"'],
    [
      'stopAt.position is malformed',
      { stopAt: { position: '20240501120000/not-an-id' } },
      'stopAt.position',
      '"20240501120000/not-an-id"',
    ],
    ['bufferSize is 0', { bufferSize: 0 }, 'bufferSize', '0'],
    ['bufferSize is 1.5', { bufferSize: 1.5 }, 'bufferSize', '1.5'],
    ['bufferSize is 2,000,000', { bufferSize: 2_000_000 }, 'bufferSize', '2000000'],
    ['bufferSize is a string', { bufferSize: '1000' }, 'bufferSize', '"1000"'],
    ['pageSize is 0', { pageSize: 0 }, 'pageSize', '0'],
    ['pageSize is 10,001', { pageSize: 10_001 }, 'pageSize', '10001'],
    ['maxMessageBytes is 100', { maxMessageBytes: 100 }, 'maxMessageBytes', '100'],
    ['maxMessageBytes is 2,000,000', { maxMessageBytes: 2_000_000 }, 'maxMessageBytes', '2000000'],
    ['maxEventsPerMessage is 0', { maxEventsPerMessage: 0 }, 'maxEventsPerMessage', '0'],
    ['maxEventsPerMessage is 10,001', { maxEventsPerMessage: 10_001 }, 'maxEventsPerMessage', '10001'],
    ['enabled is "yes"', { enabled: 'yes' }, 'enabled', '"yes"'],
  ])('fails when %s', (_, overrides, path, given) => {
    // Prepare
    const value = overrides === null ? null : definition(overrides);

    // Act
    const error = rejection(value);

    // Assess
    expect(error).toMatchObject({ name: 'InvalidDefinitionError', definition: 'pipeline' });
    expect(error.value).toBe(value);
    expect(error.problems).toHaveLength(1);
    const [problem] = error.problems as [string];
    expect(problem.startsWith(`${path}: `)).toBe(true);
    expect(problem).toContain(`(given ${given}`);
    expect(error.message).toContain(problem);
  });

  it('fails when the definition has an unknown field, naming it and its value', () => {
    // Prepare
    const value = definition({ colour: 'blue' });

    // Act
    const error = rejection(value);

    // Assess
    expect(error.problems).toHaveLength(1);
    expect(error.message).toMatch(/Unrecognized key: "colour"/);
    expect(error.message).toContain('"colour":"blue"');
  });

  it('fails when fifo is true on a standard queue URL', () => {
    // Act
    const error = rejection(definition({ fifo: true }));

    // Assess
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain(
      `fifo is true but the queue ${STANDARD_QUEUE_URL} is a standard queue`,
    );
  });

  it('fails when fifo is false on a FIFO queue URL', () => {
    // Act
    const error = rejection(definition({ queueUrl: FIFO_QUEUE_URL, fifo: false }));

    // Assess
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain(`fifo is false but the queue ${FIFO_QUEUE_URL} is a FIFO queue`);
  });

  it('fails when start.position is text whose eventId lies outside its bucket, saying so', () => {
    // Prepare
    const text = `20240501120000/${outOfBucket}`;

    // Act
    const error = rejection(definition({ start: { position: text } }));

    // Assess
    expect(error.problems).toHaveLength(1);
    const [problem] = error.problems as [string];
    expect(problem.startsWith('start.position: ')).toBe(true);
    expect(problem).toContain(`(given "${text}")`);
    // The text is well formed: the problem is that the id belongs to another bucket.
    expect(problem).toMatch(/eventId .*bucket/i);
  });

  it('fails when start.position is an object with a malformed timeBucket, naming only that problem', () => {
    // Act
    const error = rejection(definition({ start: { position: { timeBucket: '2024050112' } } }));

    // Assess
    expect(error.problems).toEqual([
      'start.position.timeBucket: timeBucket must be yyyyMMddHH0000 (given "2024050112")',
    ]);
  });

  it.each([
    ['start', { start: { time: '1969-12-31T23:00:00Z' } }],
    ['stopAt', { stopAt: { time: '1969-12-31T23:00:00Z' } }],
  ])('fails when %s.time is before 1970, which no event id can hold', (field, overrides) => {
    // Act
    const act = () => resolvePipeline(definition(overrides));

    // Assess
    expect(act).toThrow(
      expect.objectContaining({ constructor: InvalidDefinitionError, definition: 'pipeline' }),
    );
    expect(act).toThrow(`${field}.time: `);
    expect(act).toThrow('(given "1969-12-31T23:00:00Z")');
  });

  it('reports every problem of a definition with several', () => {
    // Prepare
    const value = definition({
      name: 'bill ing',
      eventTypes: ['order.placed', 'order/paid'],
      queueUrl: 'sqs://billing',
      start: { time: 'yesterday' },
      bufferSize: 0,
      pageSize: 1.5,
      enabled: 'yes',
      colour: 'blue',
    });

    // Act
    const error = rejection(value);

    // Assess
    const paths = error.problems.map((problem) => problem.slice(0, problem.indexOf(':')));
    expect(paths.sort()).toEqual(
      [
        'bufferSize',
        'definition',
        'enabled',
        'eventTypes.1',
        'name',
        'pageSize',
        'queueUrl',
        'start.time',
      ].sort(),
    );
    for (const problem of error.problems) expect(error.message).toContain(problem);
  });

  it('reports a fifo conflict together with the other problems', () => {
    // Prepare
    const value = definition({ fifo: true, bufferSize: 0 });

    // Act
    const error = rejection(value);

    // Assess
    expect(error.problems).toHaveLength(2);
    expect(error.message).toContain('bufferSize: ');
    expect(error.message).toContain(`fifo is true but the queue ${STANDARD_QUEUE_URL} is a standard queue`);
  });
});

describe('startPosition', () => {
  const now = Date.parse('2024-05-01T12:34:56.789Z');

  it('starts at the first bucket for "earliest"', () => {
    // Act
    const position = startPosition('earliest', now);

    // Assess
    expect(position).toEqual({ timeBucket: '19700101000000' });
  });

  it('starts at the time of creation for "latest"', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23) }), (nowMs) => {
        // Act
        const position = startPosition('latest', nowMs);

        // Assess
        expect(position).toEqual(positionAtTime(nowMs));
      }),
    );
    expect(startPosition('latest', now)).toEqual({
      timeBucket: '20240501120000',
      eventId: largestEventIdAt(now - 1),
    });
  });

  it('starts at a time, whatever its offset', () => {
    // Prepare
    const starts: PipelineStart[] = [
      { time: '2024-05-01T12:30:00Z' },
      { time: '2024-05-01T14:30:00+02:00' },
      { time: '2024-05-01T12:00:00.000Z' },
    ];

    // Act
    const positions = starts.map((start) => startPosition(start, now));

    // Assess
    const halfPast = {
      timeBucket: '20240501120000',
      eventId: largestEventIdAt(Date.parse('2024-05-01T12:29:59.999Z')),
    };
    expect(positions).toEqual([halfPast, halfPast, { timeBucket: '20240501120000' }]);
  });

  it('starts at a position given as text or as an object', () => {
    // Prepare
    const eventId = idAt('2024-05-01T12:10:00.000Z');
    const object = { timeBucket: '20240501120000', eventId };

    // Act
    const fromText = startPosition({ position: `20240501120000/${eventId}` }, now);
    const fromBucketText = startPosition({ position: '20240501120000' }, now);
    const fromObject = startPosition({ position: object }, now);

    // Assess
    expect(fromText).toEqual(object);
    expect(fromText).toEqual(parsePosition(`20240501120000/${eventId}`));
    expect(fromBucketText).toEqual({ timeBucket: '20240501120000' });
    expect(fromObject).toEqual(object);
  });

  it('starts where a resolved definition says', () => {
    // Prepare
    const resolved = resolvePipeline(definition({ start: { time: '2024-05-01T12:30:00Z' } }));

    // Act
    const position = startPosition(resolved.start, now);

    // Assess
    expect(position).toEqual(positionAtTime(Date.parse('2024-05-01T12:30:00Z')));
  });
});
