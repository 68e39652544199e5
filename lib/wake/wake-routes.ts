import { describe, ValidationError } from '../errors';
import { TABLE_NAME_PATTERN } from '../event-log/constants';
import { NAME_PATTERN } from '../event-log/names';
import { SLUICE_VARIABLES } from '../settings/variables';
import { isEventId } from '../time/event-id';

/** One fetcher to wake when a stream receives events. */
export interface WakeRoute {
  /** The stream whose commits wake it. */
  readonly stream: string;
  /** The pipeline the fetcher works (for metrics and logs). */
  readonly pipeline: string;
  /** The fetcher function's name or ARN. */
  readonly target: string;
  /** How long the woken run tails once idle, in milliseconds (`FetcherRunOptions.untilIdleMs`). */
  readonly untilIdleMs: number;
  /**
   * The pipeline's state table: where the waker reads the pipeline's lease, and leaves the events to
   * a run holding it that will look for them (see `docs/wake-on-commit.md`, "Handing over"). Without
   * it, the fetcher is always woken.
   */
  readonly stateTable?: string;
}

/**
 * How long a run woken by a commit reads on once idle, on AWS and locally. The run already waits until
 * its settled horizon has passed what woke it, so this only gathers the commits that follow closely
 * into the same run.
 */
export const WOKEN_RUN_UNTIL_IDLE_MS = 1_000;

/** The environment variable of the waker function that holds its routes, as JSON. */
export const WAKE_ROUTES_VARIABLE = SLUICE_VARIABLES.wakeRoutes;

/**
 * What a woken fetcher receives: `untilIdleMs` tells it to leave once idle, and not before it has read
 * through `readThrough`, the newest event id committed to its stream that the waker saw.
 */
export interface WakeEvent {
  readonly source: typeof WAKE_EVENT_SOURCE;
  readonly pipeline: string;
  readonly untilIdleMs: number;
  readonly readThrough?: string;
}

/** The `source` of a {@link WakeEvent}. */
export const WAKE_EVENT_SOURCE = 'sluice.wake';

/**
 * Reads the waker's routes from their JSON text.
 *
 * @throws `ValidationError` naming every malformed route and its value.
 *
 * @example
 * ```ts
 * const routes = parseWakeRoutes(process.env.SLUICE_WAKE_ROUTES);
 * ```
 */
export function parseWakeRoutes(text: string | undefined): WakeRoute[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    throw new ValidationError(
      `${WAKE_ROUTES_VARIABLE} must be a JSON array of routes (given ${describe(text)})`,
      text,
    );
  }
  if (!Array.isArray(parsed))
    throw new ValidationError(
      `${WAKE_ROUTES_VARIABLE} must be a JSON array of routes (given ${describe(text)})`,
      text,
    );
  const problems: string[] = [];
  parsed.forEach((route: Partial<Record<keyof WakeRoute, unknown>>, index) => {
    const at = `${WAKE_ROUTES_VARIABLE}[${index}]`;
    if (typeof route?.stream !== 'string' || !NAME_PATTERN.test(route.stream))
      problems.push(`${at}.stream must be a stream name (given ${describe(route?.stream)})`);
    if (typeof route?.pipeline !== 'string' || !NAME_PATTERN.test(route.pipeline))
      problems.push(`${at}.pipeline must be a pipeline name (given ${describe(route?.pipeline)})`);
    if (typeof route?.target !== 'string' || route.target === '')
      problems.push(`${at}.target must name a function (given ${describe(route?.target)})`);
    if (typeof route?.untilIdleMs !== 'number' || !(route.untilIdleMs >= 0))
      problems.push(
        `${at}.untilIdleMs must be 0 or more milliseconds (given ${describe(route?.untilIdleMs)})`,
      );
    if (
      route?.stateTable !== undefined &&
      (typeof route.stateTable !== 'string' || !TABLE_NAME_PATTERN.test(route.stateTable))
    )
      problems.push(`${at}.stateTable must be a table name (given ${describe(route.stateTable)})`);
  });
  if (problems.length > 0) throw new ValidationError(`invalid wake routes: ${problems.join('; ')}`, parsed);
  return parsed as WakeRoute[];
}

/**
 * The run options a fetcher's invocation asks for: a {@link WakeEvent}'s `untilIdleMs` and
 * `readThrough`, or a scheduled run's `untilIdleMs` (the rule's input carries it when the pipeline
 * wakes on commit); none for an event without them (tail until the deadline).
 *
 * @example
 * ```ts
 * await fetcher.run({ deadline, ...wokenRunOptionsOf(event) });
 * ```
 */
export function wokenRunOptionsOf(event: unknown): { untilIdleMs?: number; readThrough?: string } {
  const { untilIdleMs, readThrough } = (event ?? {}) as { untilIdleMs?: unknown; readThrough?: unknown };
  if (!(typeof untilIdleMs === 'number' && Number.isFinite(untilIdleMs) && untilIdleMs >= 0)) return {};
  return { untilIdleMs, ...(isEventId(readThrough) ? { readThrough } : {}) };
}
