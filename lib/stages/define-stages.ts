import * as z from 'zod/mini';
import { describe, InvalidDefinitionError } from '../errors';
import { NAME_PATTERN } from '../event-log/names';
import type { PipelineStart } from '../pipeline/definition';
import { MAX_REDELIVERY_COUNT_RANGE } from '../settings/redelivery';
import '../validation/english-messages';
import { parseDefinition } from '../validation/parse-definition';
import { ON_STAGE_ERROR, STAGE_DEFAULTS } from './constants';
import { stagePipelineName, stageStreamName } from './names';
import type { ResolvedStage, ResolvedStages, StageHandler, StagesDefinition } from './types';

const NAME_RULE = '1 to 128 letters, digits, dots, underscores or hyphens, starting with a letter or digit';
const name = (what: string) => z.string().check(z.regex(NAME_PATTERN, `${what} must be ${NAME_RULE}`));
const whole = (min: number, max: number) =>
  z.optional(
    z
      .number()
      .check(
        z.refine(
          (value) => Number.isInteger(value) && value >= min && value <= max,
          `must be a whole number from ${min} to ${max}`,
        ),
      ),
  );
const aFunction = (what: string) =>
  z.custom<(...args: never[]) => unknown>(
    (value) => typeof value === 'function',
    `${what} must be a function`,
  );

const stageSchema = z.strictObject({
  name: name('a stage name'),
  handle: aFunction('handle'),
  output: z.optional(
    z.strictObject({
      stream: z.optional(name('an output stream')),
      type: z.optional(name('an output type')),
    }),
  ),
  concurrency: whole(1, 1_000),
  batchSize: whole(1, 10),
  timeoutMs: whole(1_000, 900_000),
  maxRedeliveryCount: whole(MAX_REDELIVERY_COUNT_RANGE.min, MAX_REDELIVERY_COUNT_RANGE.max),
  bufferSize: whole(1, 1_000_000),
  maxEventsPerMessage: whole(1, 10_000),
  onStageError: z.optional(
    z.enum([ON_STAGE_ERROR.retry, ON_STAGE_ERROR.skip, ON_STAGE_ERROR.abort], {
      error: `onStageError must be one of ${Object.values(ON_STAGE_ERROR).join(', ')}`,
    }),
  ),
  failedHandler: z.optional(aFunction('failedHandler')),
});

const stagesSchema = z.strictObject({
  name: name('name'),
  source: z.strictObject({
    stream: name('source.stream'),
    eventTypes: z.optional(z.array(name('an event type')).check(z.minLength(1), z.maxLength(100))),
    start: z.optional(z.unknown()),
  }),
  stages: z.array(stageSchema).check(z.minLength(1, 'stages must hold at least one stage')),
});

/**
 * Checks a multi-stage pipeline and names its streams: the first stage reads `source.stream`; each
 * stage commits what its handler returns to its output stream (`<name>.<stage>` unless it names one),
 * which the next stage reads. Each stage is a pipeline of its own (`<name>.<stage>`), with its own
 * queue, worker settings and failed handler.
 *
 * @throws `InvalidDefinitionError` with definition `stages` listing every problem with the value given (duplicate stage names,
 * streams that feed back into the chain, names too long once joined, bad settings).
 *
 * @example
 * ```ts
 * export const orders = defineStages({
 *   name: 'orders',
 *   source: { stream: 'orders' },
 *   stages: [
 *     { name: 'extract', handle: (event) => ({ id: event.data.id }) },
 *     { name: 'transform', handle: (event) => enrich(event.data), onStageError: 'skip' },
 *     { name: 'load', handle: async (event) => { await save(event.data); }, concurrency: 4 },
 *   ],
 * });
 * ```
 */
export function defineStages(definition: StagesDefinition): ResolvedStages {
  const value = parseDefinition(stagesSchema, definition, 'stages');
  const problems: string[] = [];
  const seen = new Set<string>();
  // Streams already in the chain: a stage writing to one of them would feed itself.
  const streams = new Set<string>([value.source.stream]);
  const stages: ResolvedStage[] = [];
  let input = value.source.stream;
  value.stages.forEach((stage, index) => {
    const at = `stages.${index}`;
    if (seen.has(stage.name))
      problems.push(`${at}.name: stage names must be unique (given ${describe(stage.name)})`);
    seen.add(stage.name);
    const pipeline = stagePipelineName(value.name, stage.name);
    if (!NAME_PATTERN.test(pipeline))
      problems.push(
        `${at}.name: the pipeline name '<name>.<stage>' must be ${NAME_RULE} (given ${describe(pipeline)})`,
      );
    const last = index === value.stages.length - 1;
    const outputStream =
      stage.output?.stream ??
      (last && stage.output === undefined ? undefined : stageStreamName(value.name, stage.name));
    if (outputStream !== undefined) {
      if (streams.has(outputStream))
        problems.push(
          `${at}.output.stream: a stage cannot write to the source or an earlier stage's stream, which would feed it back (given ${describe(outputStream)})`,
        );
      else if (!NAME_PATTERN.test(outputStream))
        problems.push(`${at}.output.stream: must be ${NAME_RULE} (given ${describe(outputStream)})`);
      streams.add(outputStream);
    }
    stages.push({
      name: stage.name,
      pipeline,
      stream: input,
      ...(index === 0 && value.source.eventTypes ? { eventTypes: value.source.eventTypes } : {}),
      start: index === 0 ? ((value.source.start as PipelineStart | undefined) ?? 'latest') : 'earliest',
      ...(outputStream !== undefined
        ? { output: { stream: outputStream, ...(stage.output?.type ? { type: stage.output.type } : {}) } }
        : {}),
      handle: stage.handle as StageHandler<never, unknown>,
      concurrency: stage.concurrency ?? STAGE_DEFAULTS.concurrency,
      batchSize: stage.batchSize ?? STAGE_DEFAULTS.batchSize,
      timeoutMs: stage.timeoutMs ?? STAGE_DEFAULTS.timeoutMs,
      maxRedeliveryCount: stage.maxRedeliveryCount ?? STAGE_DEFAULTS.maxRedeliveryCount,
      bufferSize: stage.bufferSize ?? STAGE_DEFAULTS.bufferSize,
      maxEventsPerMessage: stage.maxEventsPerMessage ?? STAGE_DEFAULTS.maxEventsPerMessage,
      onStageError: stage.onStageError ?? STAGE_DEFAULTS.onStageError,
      ...(stage.failedHandler
        ? { failedHandler: stage.failedHandler as ResolvedStage['failedHandler'] }
        : {}),
    } as ResolvedStage);
    if (outputStream !== undefined) input = outputStream;
  });
  if (problems.length > 0) throw new InvalidDefinitionError('stages', problems, definition);
  return { name: value.name, source: definition.source, stages };
}

/**
 * One stage of a checked definition, by name.
 *
 * @throws `InvalidDefinitionError` with definition `stages` naming the stages there are, when there is none of that name.
 *
 * @example
 * ```ts
 * const transform = stageOf(orders, 'transform');
 * ```
 */
export function stageOf(stages: ResolvedStages, stageName: string): ResolvedStage {
  const stage = stages.stages.find((candidate) => candidate.name === stageName);
  if (!stage)
    throw new InvalidDefinitionError(
      'stages',
      [
        `no stage named ${describe(stageName)} in ${stages.name} (its stages: ${stages.stages.map((s) => s.name).join(', ')})`,
      ],
      stageName,
    );
  return stage;
}
