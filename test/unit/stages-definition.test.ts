import { describe, expect, it } from 'vitest';
import type { HandlerContext, WorkerEvent } from '../../lib';
import { defineStages, NonRetryableError, type StagesDefinition } from '../../lib';
import { InvalidDefinitionError } from '../../lib/errors';
import { stageOf } from '../../lib/stages/define-stages';
import { stageEventHandler } from '../../lib/stages/stage-handler';

const pass = (event: WorkerEvent<never>) => event.data;

function stages(overrides: Partial<StagesDefinition> = {}): StagesDefinition {
  return {
    name: 'orders',
    source: { stream: 'orders.raw' },
    stages: [
      { name: 'extract', handle: pass },
      { name: 'transform', handle: pass },
      { name: 'load', handle: pass },
    ],
    ...overrides,
  };
}

function rejection(definition: unknown): InvalidDefinitionError {
  try {
    defineStages(definition as StagesDefinition);
  } catch (error) {
    if (error instanceof InvalidDefinitionError && error.definition === 'stages') return error;
    throw new Error(`expected an InvalidDefinitionError of a stages definition, got ${String(error)}`, {
      cause: error,
    });
  }
  throw new Error('expected defineStages to throw an InvalidDefinitionError of a stages definition');
}

const event = (overrides: Partial<WorkerEvent> = {}): WorkerEvent =>
  ({
    id: '0000000000001-0000-aaaaaaaa',
    stream: 'orders.raw',
    type: 'order.exported',
    time: new Date(0),
    data: { line: 'o-1' },
    attempt: 1,
    messageId: 'm-1',
    ...overrides,
  }) as WorkerEvent;
const context = {} as HandlerContext;

describe('defineStages', () => {
  it('chains the stages: each reads the stream the one before it writes', () => {
    // Act
    const resolved = defineStages(stages());

    // Assess
    expect(
      resolved.stages.map(({ pipeline, stream, output, start }) => ({ pipeline, stream, output, start })),
    ).toEqual([
      {
        pipeline: 'orders.extract',
        stream: 'orders.raw',
        output: { stream: 'orders.extract' },
        start: 'latest',
      },
      {
        pipeline: 'orders.transform',
        stream: 'orders.extract',
        output: { stream: 'orders.transform' },
        start: 'earliest',
      },
      { pipeline: 'orders.load', stream: 'orders.transform', output: undefined, start: 'earliest' },
    ]);
    expect(resolved.stages[0]).toMatchObject({
      concurrency: 10,
      batchSize: 10,
      timeoutMs: 30_000,
      maxRedeliveryCount: 5,
      bufferSize: 1_000,
      onStageError: 'retry',
    });
  });

  it('takes a named output stream and type, and gives the last stage an output only when asked', () => {
    // Act
    const resolved = defineStages(
      stages({
        stages: [
          { name: 'extract', handle: pass, output: { stream: 'parsed', type: 'order.parsed' } },
          { name: 'load', handle: pass, output: {} },
        ],
      }),
    );

    // Assess
    expect(stageOf(resolved, 'load').stream).toBe('parsed');
    expect(stageOf(resolved, 'extract').output).toEqual({ stream: 'parsed', type: 'order.parsed' });
    expect(stageOf(resolved, 'load').output).toEqual({ stream: 'orders.load' });
  });

  it('fails when a setting is out of range, naming each with its value', () => {
    // Act
    const error = rejection(
      stages({
        stages: [
          {
            name: 'extract',
            handle: pass,
            concurrency: 0,
            batchSize: 11,
            timeoutMs: 500,
            maxRedeliveryCount: 2.5,
            bufferSize: -1,
            onStageError: 'explode' as never,
          },
        ],
      }),
    );

    // Assess
    expect(error.problems).toEqual(
      expect.arrayContaining([
        'stages.0.concurrency: must be a whole number from 1 to 1000 (given 0)',
        'stages.0.batchSize: must be a whole number from 1 to 10 (given 11)',
        'stages.0.timeoutMs: must be a whole number from 1000 to 900000 (given 500)',
        'stages.0.maxRedeliveryCount: must be a whole number from 1 to 99 (given 2.5)',
        'stages.0.bufferSize: must be a whole number from 1 to 1000000 (given -1)',
        'stages.0.onStageError: onStageError must be one of retry, skip, abort (given "explode")',
      ]),
    );
    expect(error.problems).toHaveLength(6);
  });

  it('fails when names are bad, a handler is missing or an option is unknown', () => {
    // Act
    const error = rejection({
      name: 'orders#1',
      source: { stream: '' },
      stages: [{ name: 'extract', handle: 'not a function', retries: 3 }],
    });

    // Assess
    const text = error.problems.join('\n');
    expect(text).toContain('name: name must be 1 to 128');
    expect(text).toContain('(given "orders#1")');
    expect(text).toContain('source.stream: source.stream must be 1 to 128');
    expect(text).toContain('stages.0.handle: handle must be a function (given "not a function")');
    expect(text).toContain('retries');
  });

  it('fails when there is no stage', () => {
    expect(rejection(stages({ stages: [] })).problems).toEqual([
      'stages: stages must hold at least one stage (given [])',
    ]);
  });

  it('fails when two stages share a name, or a stage writes back into the chain', () => {
    // Act
    const error = rejection(
      stages({
        stages: [
          { name: 'extract', handle: pass },
          { name: 'extract', handle: pass, output: { stream: 'orders.raw' } },
          { name: 'load', handle: pass },
        ],
      }),
    );

    // Assess
    expect(error.problems).toEqual([
      'stages.1.name: stage names must be unique (given "extract")',
      'stages.1.output.stream: a stage cannot write to the source or an earlier stage\'s stream, which would feed it back (given "orders.raw")',
    ]);
  });

  it('fails when a stage pipeline name would pass 128 characters', () => {
    const error = rejection(
      stages({ name: 'n'.repeat(100), stages: [{ name: 's'.repeat(40), handle: pass }] }),
    );
    expect(error.problems[0]).toContain("stages.0.name: the pipeline name '<name>.<stage>' must be");
  });

  it('fails when asked for a stage it does not have, naming the ones it has', () => {
    expect(() => stageOf(defineStages(stages()), 'save')).toThrow(
      'no stage named "save" in orders (its stages: extract, transform, load)',
    );
  });
});

describe('stageEventHandler', () => {
  const halts: string[] = [];
  const halt = async (reason: string) => void halts.push(reason);

  it('passes the result on with the type and partition key of the event handled', async () => {
    const stage = stageOf(defineStages(stages()), 'extract');
    const output = await stageEventHandler(stage, { halt })(event({ partitionKey: 'c-7' }), context);
    expect(output).toEqual({
      stream: 'orders.extract',
      type: 'order.exported',
      data: { line: 'o-1' },
      partitionKey: 'c-7',
    });
  });

  it('passes nothing on for undefined or null, nor from a last stage without an output', async () => {
    const resolved = defineStages(
      stages({
        stages: [
          { name: 'filter', handle: () => null },
          { name: 'load', handle: pass },
        ],
      }),
    );
    expect(await stageEventHandler(stageOf(resolved, 'filter'), { halt })(event(), context)).toBeUndefined();
    expect(await stageEventHandler(stageOf(resolved, 'load'), { halt })(event(), context)).toBeUndefined();
  });

  it('fails with a NonRetryableError that keeps the cause when the stage skips', async () => {
    const cause = new Error('price missing');
    const resolved = defineStages(
      stages({ stages: [{ name: 'price', onStageError: 'skip', handle: () => Promise.reject(cause) }] }),
    );
    const failure = (await Promise.resolve(
      stageEventHandler(stageOf(resolved, 'price'), { halt })(event(), context),
    ).catch((error: unknown) => error)) as Error;
    expect(failure).toBeInstanceOf(NonRetryableError);
    expect(failure.message).toBe('stage price skipped event 0000000000001-0000-aaaaaaaa: price missing');
    expect(failure.cause).toBe(cause);
  });

  it('halts and rethrows when the stage aborts, and only then', async () => {
    halts.length = 0;
    const cause = new Error('warehouse down');
    const resolved = defineStages(
      stages({
        stages: [
          { name: 'retrying', handle: () => Promise.reject(cause) },
          { name: 'aborting', onStageError: 'abort', handle: () => Promise.reject(cause) },
        ],
      }),
    );
    await expect(stageEventHandler(stageOf(resolved, 'retrying'), { halt })(event(), context)).rejects.toBe(
      cause,
    );
    expect(halts).toEqual([]);
    await expect(stageEventHandler(stageOf(resolved, 'aborting'), { halt })(event(), context)).rejects.toBe(
      cause,
    );
    expect(halts).toEqual(['stage aborting aborted on event 0000000000001-0000-aaaaaaaa: warehouse down']);
  });
});
