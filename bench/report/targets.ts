import type { BenchResults, TargetResult } from './results';

/** The worker bundle's limit: 150 KB. */
export const WORKER_BUNDLE_LIMIT_BYTES = 150 * 1000;

/**
 * Checks the figures of a run against the targets of the benchmark, each with how far off it is.
 *
 * @example
 * ```ts
 * const targets = evaluateTargets(results);
 * targets.filter((target) => !target.met);
 * ```
 */
export function evaluateTargets(results: Omit<BenchResults, 'targets'>): TargetResult[] {
  const { systems } = results;
  const targets: TargetResult[] = [];
  const atMost = (target: string, measured: number | null | undefined, limit: number) => {
    if (measured === null || measured === undefined) return;
    targets.push(verdict(target, measured, limit, measured <= limit, measured / limit));
  };
  const atLeast = (target: string, measured: number | undefined, limit: number) => {
    if (measured === undefined) return;
    targets.push(verdict(target, measured, limit, measured >= limit, limit / measured));
  };
  const sluice = systems.sluice;
  if (sluice) {
    atMost('sluice: billed AWS requests per 1,000 events', sluice.awsRequestsPer1000Events.total, 40);
    atMost('sluice: $ per million events (framework overhead)', sluice.usdPerMillionEvents, 0.05);
    const naive = systems.naive;
    if (naive)
      atLeast('sluice events/s ÷ naive events/s', round(sluice.eventsPerSecond / naive.eventsPerSecond), 5);
    const rawSystem = systems.raw;
    if (rawSystem)
      atLeast('sluice events/s ÷ raw events/s', round(sluice.eventsPerSecond / rawSystem.eventsPerSecond), 4);
    // Wake on commit's targets at the defaults (issue 18), tighter than issue 17's "no worse than
    // 1.7 s / 2.5 s".
    atMost('sluice: live latency p50 (ms)', sluice.latencyP50Ms, 500);
    atMost('sluice: live latency p99 (ms)', sluice.latencyP99Ms, 1_500);
  }
  const storage = results.storageCost?.runs;
  if (storage) {
    const { realistic, incompressible } = storage;
    atMost('write units per realistic event, commits of 100', realistic.batch100.writeUnitsPerEvent, 0.4);
    atMost('write units per realistic event, single-event commits', realistic.single.writeUnitsPerEvent, 1);
    atMost(
      'write units per incompressible event, commits of 100',
      incompressible.batch100.writeUnitsPerEvent,
      1.1,
    );
    atMost(
      'end to end $ per million realistic events, commits of 100',
      realistic.batch100.usdPerMillionEventsEndToEnd.total,
      0.3,
    );
    atMost(
      'end to end $ per million incompressible events, commits of 100',
      incompressible.batch100.usdPerMillionEventsEndToEnd.total,
      0.75,
    );
    atMost(
      'log read units per 1,000 realistic events (commits of 100)',
      realistic.batch100.logReadUnitsPer1000Events,
      100,
    );
    atMost(
      'SQS billed requests per 1,000 realistic events (commits of 100)',
      realistic.batch100.sqsRequestsPer1000Events,
      20,
    );
  }
  const lowLatency = systems['sluice-low-latency'];
  if (lowLatency) {
    atMost('sluice-low-latency: live latency p50 (ms)', lowLatency.latencyP50Ms, 1_000);
    atMost('sluice-low-latency: live latency p99 (ms)', lowLatency.latencyP99Ms, 3_000);
  }
  const single = systems['sluice-1'];
  const raw = systems.raw;
  if (single && raw)
    atLeast('sluice-1 events/s ÷ raw events/s', round(single.eventsPerSecond / raw.eventsPerSecond), 0.6);
  atMost(
    `fetcher peak RSS at ${results.fetcherMemory.largeBacklog} ÷ at ${results.fetcherMemory.smallBacklog} events of backlog`,
    results.fetcherMemory.ratio,
    1.2,
  );
  atMost('worker bundle, minified (bytes)', results.bundles.worker, WORKER_BUNDLE_LIMIT_BYTES);
  if (results.idleUsdPerPipelineMonth)
    atMost(
      'idle $ per pipeline per month (latency: balanced, modelled)',
      results.idleUsdPerPipelineMonth.balanced,
      0.6,
    );
  const steady = results.steadyLoadUsdPerPipelineMonth;
  if (steady)
    atMost(
      'steady load: balanced ÷ economy, $ per pipeline-month beside events (modelled)',
      round(steady.balanced / steady.economy),
      1,
    );
  return targets;
}

function verdict(
  target: string,
  measured: number,
  limit: number,
  met: boolean,
  factor: number,
): TargetResult {
  return {
    target,
    measured,
    limit,
    met,
    verdict: met ? 'met' : `missed: ${measured} against ${limit} (${round(factor)}× off)`,
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
