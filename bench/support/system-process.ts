import type { RequestCounts, TableUnits } from '../meter/request-meter';
import type { Endpoints } from './endpoints';
import { type PeakRss, samplePeakRss } from './peak-rss';

/** What the runner tells a system's process, as JSON in `BENCH_SYSTEM_CONFIG`. */
export interface SystemConfig {
  /** Unique to this system in this run: its tables and queues are named from it. */
  readonly prefix: string;
  readonly endpoints: Endpoints;
  /** An event log table already holding `events` settled benchmark events (not used by `raw`). */
  readonly eventLogTable: string;
  readonly events: number;
  /** Live events committed at a steady rate once the backlog is done, for commit-to-handler latency. */
  readonly live: { readonly eventsPerSecond: number; readonly seconds: number };
}

/** What a system's process reports. */
export interface SystemReport {
  readonly events: number;
  /** From the system's start to the last backlog event reaching its handler. */
  readonly elapsedMs: number;
  /** AWS calls of the system's own code over the backlog phase. */
  readonly counts: RequestCounts;
  /** Lambda invocations over the backlog phase (as the system would run on Lambda). */
  readonly lambdaInvocations: number;
  /** Commit (or send) to handler start, one per live event handled. */
  readonly latenciesMs: readonly number[];
  /** Live events committed that no handler saw within the wait. */
  readonly liveMissing: number;
  readonly peakRssBytes: number;
  readonly notes?: readonly string[];
  /**
   * `counts` split into the pump's part (the fetcher's calls) and the handling's part (the worker's
   * calls and the event source mappings' receives and deletes), with the Lambda invocations of each.
   * The failed-event function shares the fetcher's clients, so its own calls (none in a run without
   * failures) count with the pump's. Only systems that can tell the parts apart report them.
   */
  readonly parts?: {
    readonly pump: RequestCounts;
    readonly pumpInvocations: number;
    readonly handle: RequestCounts;
    readonly handleInvocations: number;
  };
  /** The request units the system spent on the event log table (its reads of the log). */
  readonly logTableUnits?: TableUnits;
}

/** Marks the report line on stdout, so that log lines before it are never mistaken for it. */
export const REPORT_PREFIX = 'BENCH_SYSTEM_REPORT ';

/**
 * Runs a system in this process, as the runner spawns it: reads its configuration from the
 * environment, samples this process's peak RSS throughout, and prints the report as the last line.
 *
 * @example
 * ```ts
 * runSystemProcess(async (config) => ({ events: config.events, elapsedMs, counts, ... }));
 * ```
 */
export function runSystemProcess(
  run: (config: SystemConfig) => Promise<Omit<SystemReport, 'peakRssBytes'>>,
): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const rss: PeakRss = samplePeakRss();
  const config = JSON.parse(process.env.BENCH_SYSTEM_CONFIG ?? 'null') as SystemConfig | null;
  if (!config) {
    console.error('BENCH_SYSTEM_CONFIG is not set: this file is run by bench/run.ts');
    process.exit(2);
  }
  run(config)
    .then((report) => {
      process.stdout.write(`${REPORT_PREFIX}${JSON.stringify({ ...report, peakRssBytes: rss.stop() })}\n`);
      // Lingering sockets of stopped clients must not hold the report back.
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
