import { randomUUID } from 'node:crypto';
import { describe, ValidationError } from '../../errors';
import { createLambdaContext, type LambdaHandler } from './lambda-context';

/** An event as EventBridge delivers it to a target. */
export interface BusEvent<TDetail = unknown> {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: TDetail;
}

/** One entry of `putEvents`. */
export interface PutEventsEntry {
  readonly source: string;
  readonly detailType: string;
  /** A JSON object. */
  readonly detail: Readonly<Record<string, unknown>>;
  readonly resources?: readonly string[];
  /** @default now */
  readonly time?: Date;
}

/**
 * An event pattern: each key names a field of the event and holds the values it may take (a single
 * value or a list of them), or, under `detail`, a nested pattern. Every key must match.
 */
export interface EventPattern {
  readonly source?: PatternValues;
  readonly 'detail-type'?: PatternValues;
  readonly account?: PatternValues;
  readonly region?: PatternValues;
  readonly resources?: PatternValues;
  readonly detail?: DetailPattern;
}

/** Allowed values of a field. */
export type PatternValues = string | number | boolean | null | readonly (string | number | boolean | null)[];

/** A pattern on `detail`: values, or nested patterns for nested objects. */
export interface DetailPattern {
  readonly [field: string]: PatternValues | DetailPattern;
}

/** A rule: the pattern events must match, and the functions they go to. */
export interface BusRule {
  readonly name: string;
  readonly eventPattern: EventPattern;
  readonly targets: readonly LambdaHandler<BusEvent>[];
  /** @default 60 */
  readonly functionTimeoutSeconds?: number;
}

/** Options of a {@link LocalEventBus}. */
export interface LocalEventBusOptions {
  /** @default 'default' */
  readonly name?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Told of each target that threw. @default logs with console.error */
  readonly onError?: (error: unknown, details: { readonly rule: string; readonly eventId: string }) => void;
}

/** Counts of a bus. */
export interface EventBusStats {
  put: number;
  /** Target invocations. */
  delivered: number;
  /** Events that matched no rule. */
  unmatched: number;
  errors: number;
  /** Target invocations running now. */
  pending: number;
}

/** The most entries one `putEvents` call takes, as on EventBridge. */
export const MAX_PUT_EVENTS_ENTRIES = 10;
/** The largest entry EventBridge takes, in bytes. */
export const MAX_EVENT_BYTES = 256 * 1024;

/**
 * An in-process EventBridge bus: `putEvents` hands each event to the targets of every rule whose
 * pattern it matches, asynchronously, with the EventBridge event shape and a Lambda-like context.
 * Patterns match `source`, `detail-type`, `account`, `region`, `resources` and `detail` fields by
 * exact value or list of values, and nested `detail` objects by nested patterns.
 *
 * @example
 * ```ts
 * const bus = new LocalEventBus();
 * bus.putRule({
 *   name: 'backfills',
 *   eventPattern: { source: ['sluice'], 'detail-type': ['Backfill Requested'] },
 *   targets: [backfillHandler],
 * });
 * await bus.putEvents([{ source: 'sluice', detailType: 'Backfill Requested', detail: { pipeline: 'billing' } }]);
 * await bus.idle();
 * ```
 */
export class LocalEventBus {
  readonly name: string;
  private readonly region: string;
  private readonly onError: NonNullable<LocalEventBusOptions['onError']>;
  private readonly rules = new Map<string, BusRule>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly counters: EventBusStats = { put: 0, delivered: 0, unmatched: 0, errors: 0, pending: 0 };

  constructor(options: LocalEventBusOptions = {}) {
    this.name = options.name ?? 'default';
    this.region = options.region ?? 'us-east-1';
    this.onError =
      options.onError ??
      ((error, details) =>
        console.error(`rule ${details.rule}: a target failed on ${details.eventId}`, error));
  }

  /**
   * Adds a rule, or replaces the rule of the same name.
   *
   * @throws `ValidationError` when the name, pattern or targets are malformed.
   *
   * @example
   * ```ts
   * bus.putRule({ name: 'paid', eventPattern: { detail: { status: ['paid', 'refunded'] } }, targets: [handler] });
   * ```
   */
  putRule(rule: BusRule): void {
    const problems: string[] = [];
    if (typeof rule?.name !== 'string' || !/^[.\-_A-Za-z0-9]{1,64}$/.test(rule.name))
      problems.push(`name must be 1 to 64 letters, digits, '.', '-' or '_' (given ${describe(rule?.name)})`);
    if (typeof rule?.eventPattern !== 'object' || rule.eventPattern === null)
      problems.push(`eventPattern must be an object (given ${describe(rule?.eventPattern)})`);
    if (!Array.isArray(rule?.targets) || rule.targets.some((target) => typeof target !== 'function'))
      problems.push('targets must be a list of functions');
    if (problems.length > 0) throw new ValidationError(`invalid rule: ${problems.join('; ')}`, rule);
    this.rules.set(rule.name, rule);
  }

  /**
   * Removes a rule; returns whether there was one.
   *
   * @example
   * ```ts
   * bus.removeRule('paid');
   * ```
   */
  removeRule(name: string): boolean {
    return this.rules.delete(name);
  }

  /**
   * Puts events on the bus and resolves to their ids once each is handed to its rules' targets
   * (which run on their own: wait for them with {@link idle}).
   *
   * @throws `ValidationError` for more than 10 entries, or an entry without source, detail type or a
   * JSON object detail, or over 256 KB; nothing is put then.
   *
   * @example
   * ```ts
   * const [id] = await bus.putEvents([{ source: 'shop', detailType: 'Order Paid', detail: { orderId: 'o-1' } }]);
   * ```
   */
  async putEvents(entries: readonly PutEventsEntry[]): Promise<string[]> {
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_PUT_EVENTS_ENTRIES)
      throw new ValidationError(
        `putEvents takes 1 to ${MAX_PUT_EVENTS_ENTRIES} entries (given ${describe(entries?.length)})`,
        entries,
      );
    const events = entries.map((entry, index) => this.toEvent(entry, index));
    for (const event of events) {
      this.counters.put += 1;
      const matched = [...this.rules.values()].filter((rule) => matchesPattern(rule.eventPattern, event));
      if (matched.length === 0) this.counters.unmatched += 1;
      for (const rule of matched) for (const target of rule.targets) this.deliver(rule, target, event);
    }
    return events.map((event) => event.id);
  }

  /**
   * Resolves once no target invocation is running.
   *
   * @example
   * ```ts
   * await bus.idle();
   * ```
   */
  async idle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.allSettled([...this.deliveries]);
  }

  /**
   * A copy of the counters.
   *
   * @example
   * ```ts
   * bus.stats().delivered;
   * ```
   */
  stats(): EventBusStats {
    return { ...this.counters, pending: this.deliveries.size };
  }

  private deliver(rule: BusRule, target: LambdaHandler<BusEvent>, event: BusEvent): void {
    const context = createLambdaContext({
      functionName: `${rule.name}-target`.slice(0, 64).replaceAll('.', '-'),
      timeoutMs: (rule.functionTimeoutSeconds ?? 60) * 1000,
      region: this.region,
    });
    const delivery = (async () => {
      await Promise.resolve();
      try {
        this.counters.delivered += 1;
        await target(structuredClone(event), context);
      } catch (error) {
        this.counters.errors += 1;
        this.onError(error, { rule: rule.name, eventId: event.id });
      }
    })().finally(() => this.deliveries.delete(delivery));
    this.deliveries.add(delivery);
  }

  private toEvent(entry: PutEventsEntry, index: number): BusEvent {
    const problems: string[] = [];
    if (typeof entry?.source !== 'string' || entry.source.length === 0 || entry.source.length > 256)
      problems.push(`source must be 1 to 256 characters (given ${describe(entry?.source)})`);
    if (
      typeof entry?.detailType !== 'string' ||
      entry.detailType.length === 0 ||
      entry.detailType.length > 128
    )
      problems.push(`detailType must be 1 to 128 characters (given ${describe(entry?.detailType)})`);
    if (typeof entry?.detail !== 'object' || entry.detail === null || Array.isArray(entry.detail))
      problems.push(`detail must be a JSON object (given ${describe(entry?.detail)})`);
    const detailJson = problems.length === 0 ? JSON.stringify(entry.detail) : '';
    const size = Buffer.byteLength(detailJson) + Buffer.byteLength(entry?.source ?? '');
    if (size > MAX_EVENT_BYTES) problems.push(`the entry is ${size} bytes, over ${MAX_EVENT_BYTES}`);
    if (problems.length > 0)
      throw new ValidationError(`invalid entry ${index}: ${problems.join('; ')}`, entry);
    const account = '000000000000';
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.detailType,
      source: entry.source,
      account,
      time: `${(entry.time ?? new Date()).toISOString().slice(0, 19)}Z`,
      region: this.region,
      resources: [...(entry.resources ?? [])],
      detail: JSON.parse(detailJson) as unknown,
    };
  }
}

/**
 * Whether an event matches a pattern: every key of the pattern must match. A field matches a value
 * list when it equals one of the values (a list field, like `resources`, when any element does).
 *
 * @example
 * ```ts
 * matchesPattern({ source: ['shop'], detail: { status: ['paid'] } }, event);
 * ```
 */
export function matchesPattern(pattern: EventPattern | DetailPattern, event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  for (const [key, expected] of Object.entries(pattern)) {
    const actual = (event as Record<string, unknown>)[key];
    if (isNestedPattern(expected)) {
      if (!matchesPattern(expected, actual)) return false;
      continue;
    }
    const allowed: readonly unknown[] = Array.isArray(expected) ? expected : [expected];
    const values: readonly unknown[] = Array.isArray(actual) ? actual : [actual];
    if (actual === undefined) return false;
    if (!values.some((value) => allowed.includes(value))) return false;
  }
  return true;
}

function isNestedPattern(value: unknown): value is DetailPattern {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
