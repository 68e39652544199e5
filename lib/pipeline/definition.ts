import * as z from 'zod/mini';
import { NAME_PATTERN } from '../event-log/names';
import { isEventId } from '../time/event-id';
import {
  assertPosition,
  type Position,
  parsePosition,
  positionAtBucketStart,
  positionAtTime,
} from '../time/position';
import { isTimeBucket } from '../time/time-bucket';
import '../validation/english-messages';
import { parseDefinition } from '../validation/parse-definition';

const NAME = NAME_PATTERN;
const NAME_RULE = '1 to 128 letters, digits, dots, underscores or hyphens, starting with a letter or digit';

/** A position as text: passes on `parsePosition`'s own reason when it is refused. */
const positionTextSchema = z.string().check(
  z.superRefine((text, context) => {
    try {
      parsePosition(text);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }),
);

const positionObjectSchema = z
  .strictObject({
    timeBucket: z.string().check(z.refine(isTimeBucket, 'timeBucket must be yyyyMMddHH0000')),
    eventId: z.optional(z.string().check(z.refine(isEventId, 'eventId must be a Sluice event id'))),
  })
  .check(
    z.superRefine((value, context) => {
      // Only the agreement of the two parts is checked here; each part's own form is checked above.
      if (value.eventId === undefined || !isTimeBucket(value.timeBucket) || !isEventId(value.eventId)) return;
      try {
        assertPosition(value);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
  );

const positionSchema = z.union([positionTextSchema, positionObjectSchema]);

const instantSchema = z.iso.datetime({ offset: true }).check(
  z.refine(
    // Text that is no date at all parses to NaN and is reported by the ISO check alone.
    (text) => !(Date.parse(text) < 0),
    'time must be 1970-01-01T00:00:00Z or later: no event id holds an earlier time',
  ),
);

const wholeNumber = (min: number, max: number) => z.optional(z.int().check(z.minimum(min), z.maximum(max)));

const definitionSchema = z
  .strictObject({
    name: z.string().check(z.regex(NAME, `name must be ${NAME_RULE}`)),
    stream: z.string().check(z.regex(NAME, `stream must be ${NAME_RULE}`)),
    eventTypes: z.optional(
      z
        .array(z.string().check(z.regex(NAME, `event types must be ${NAME_RULE}`)))
        .check(z.minLength(1), z.maxLength(100)),
    ),
    queueUrl: z.string().check(z.refine(isQueueUrl, 'queueUrl must be an http(s) queue URL')),
    fifo: z.optional(z.boolean()),
    start: z.optional(
      z.union([
        z.literal('earliest'),
        z.literal('latest'),
        z.strictObject({ time: instantSchema }),
        z.strictObject({ position: positionSchema }),
      ]),
    ),
    stopAt: z.optional(
      z.union([z.strictObject({ time: instantSchema }), z.strictObject({ position: positionSchema })]),
    ),
    bufferSize: wholeNumber(1, 1_000_000),
    pageSize: wholeNumber(1, 10_000),
    maxMessageBytes: wholeNumber(1_024, 1_048_576),
    maxEventsPerMessage: wholeNumber(1, 10_000),
    enabled: z.optional(z.boolean()),
    earlyDelivery: z.optional(z.boolean()),
  })
  .check(
    z.superRefine((value, context) => {
      const queueIsFifo = value.queueUrl.endsWith('.fifo');
      if (value.earlyDelivery === true && queueIsFifo) {
        context.addIssue({
          code: 'custom',
          path: ['earlyDelivery'],
          message: `earlyDelivery is true but the queue ${value.queueUrl} is a FIFO queue, whose events must arrive in commit order, so they wait for the settle window`,
        });
      }
      if (value.fifo === undefined) return;
      if (value.fifo !== queueIsFifo) {
        context.addIssue({
          code: 'custom',
          path: ['fifo'],
          message: `fifo is ${value.fifo} but the queue ${value.queueUrl} is ${queueIsFifo ? 'a FIFO queue' : 'a standard queue'}`,
        });
      }
    }),
  );

/** Where a new pipeline starts reading. */
export type PipelineStart =
  | 'earliest'
  | 'latest'
  | { readonly time: string }
  | { readonly position: string | Position };

/**
 * One consumer of one stream: which events it takes, the queue it feeds, where it starts and stops,
 * and how hard it may push.
 *
 * @example
 * ```ts
 * const billing: PipelineDefinition = {
 *   name: 'billing',
 *   stream: 'orders',
 *   eventTypes: ['order.paid'],
 *   queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/billing',
 *   start: { time: '2024-05-01T12:30:00Z' },
 * };
 * ```
 */
export interface PipelineDefinition {
  /** Unique among pipelines; 1 to 128 letters, digits, `.`, `_` or `-`. */
  readonly name: string;
  readonly stream: string;
  /** Only events of these types. @default every type */
  readonly eventTypes?: readonly string[];
  readonly queueUrl: string;
  /** Whether the queue is FIFO. @default true when the queue URL ends in `.fifo` */
  readonly fifo?: boolean;
  /** Where a new pipeline starts. @default 'latest' (events committed from its creation on) */
  readonly start?: PipelineStart;
  /** Where a bounded pipeline stops. @default none: it runs live for ever */
  readonly stopAt?: { readonly time: string } | { readonly position: string | Position };
  /** The most messages waiting or in flight in the queue before the fetcher pauses. @default 1000 */
  readonly bufferSize?: number;
  /**
   * Events read from the log at a time: one checkpoint write per page, and with the default packing
   * a page of 1,000 events fills one SendMessageBatch call of ten messages. @default 1000
   */
  readonly pageSize?: number;
  /** Packed message size limit. @default 65000 (just under SQS's 64 KiB billing unit) */
  readonly maxMessageBytes?: number;
  /** 1 sends one event per message. @default 100 */
  readonly maxEventsPerMessage?: number;
  /** A disabled pipeline is skipped by the fetcher. @default true */
  readonly enabled?: boolean;
  /**
   * Send events as soon as they are committed, before the stream's settle window has passed them,
   * keeping a record of them with the checkpoint so that none is sent twice (`docs/early-delivery.md`).
   * Not for a FIFO queue, whose events must arrive in commit order.
   * @default true on a standard queue
   */
  readonly earlyDelivery?: boolean;
}

/** A pipeline definition with every default filled in. */
export interface ResolvedPipeline {
  readonly name: string;
  readonly stream: string;
  readonly eventTypes?: readonly string[];
  readonly queueUrl: string;
  readonly fifo: boolean;
  readonly start: PipelineStart;
  readonly stopAt?: Position;
  readonly bufferSize: number;
  readonly pageSize: number;
  readonly maxMessageBytes: number;
  readonly maxEventsPerMessage: number;
  readonly enabled: boolean;
  readonly earlyDelivery: boolean;
  /** Set by `PipelineStore.haltPipeline` (a stage that aborted): when, and why. A halted pipeline is not enabled. */
  readonly halted?: { readonly at: number; readonly reason: string };
}

/**
 * Checks a pipeline definition and fills in its defaults, or throws an `InvalidDefinitionError` listing
 * every problem with the value given.
 *
 * @example
 * ```ts
 * const pipeline = resolvePipeline(JSON.parse(body));
 * ```
 */
export function resolvePipeline(definition: unknown): ResolvedPipeline {
  const value = parseDefinition(definitionSchema, definition, 'pipeline');
  const queueIsFifo = value.queueUrl.endsWith('.fifo');
  return {
    name: value.name,
    stream: value.stream,
    ...(value.eventTypes ? { eventTypes: value.eventTypes } : {}),
    queueUrl: value.queueUrl,
    fifo: queueIsFifo,
    start: (value.start as PipelineStart | undefined) ?? 'latest',
    ...(value.stopAt ? { stopAt: toPosition(value.stopAt) } : {}),
    bufferSize: value.bufferSize ?? 1_000,
    pageSize: value.pageSize ?? 1_000,
    maxMessageBytes: value.maxMessageBytes ?? 65_000,
    maxEventsPerMessage: value.maxEventsPerMessage ?? 100,
    enabled: value.enabled ?? true,
    earlyDelivery: value.earlyDelivery ?? !queueIsFifo,
  };
}

/**
 * The position a pipeline starts from, given the time it is created.
 *
 * @example
 * ```ts
 * startPosition('earliest', Date.now()); // { timeBucket: '19700101000000' }
 * ```
 */
export function startPosition(start: PipelineStart, nowMs: number): Position {
  if (start === 'earliest') return positionAtBucketStart('19700101000000');
  if (start === 'latest') return positionAtTime(nowMs);
  return toPosition(start);
}

function toPosition(bound: { readonly time: string } | { readonly position: string | Position }): Position {
  if ('time' in bound) return positionAtTime(new Date(bound.time));
  return typeof bound.position === 'string' ? parsePosition(bound.position) : bound.position;
}

/** `http(s)://host/path`: checked by shape, since local emulators use host names URL parsers refuse. */
function isQueueUrl(text: string): boolean {
  return /^https?:\/\/[^\s/]+\/\S+$/.test(text);
}
