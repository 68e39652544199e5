// `npm run bench` (or `npm run bench -- --quick`): runs every system against the same emulators on
// the same events, one after another, and writes bench/results.json, bench/RESULTS.md and
// bench/results.svg. `-- --cpu-prof` also writes a CPU profile of each system's process to
// bench/profiles/ (ignored by git). `-- --storage-cost-only` runs only the storage-cost runs (each
// payload and producer through `sluice`, end to end) and prints their tables, writing nothing;
// `-- --systems=sluice,raw` runs only the systems named and prints their figures (with their calls
// by operation), writing nothing.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { startDynamoDbLocal, startSqsEmulator } from '../lib/local';
import { LOW_LATENCY_STREAM_TIMING } from '../lib/settings/latency';
import { measureBundles } from './bundles';
import { costPerMillionEvents, requestsPer1000Events } from './cost/cost-model';
import { type StorageCostRun, storageCostRun } from './cost/end-to-end';
import {
  type IdleCost,
  idleCostPerPipelineMonth,
  type SteadyLoadCost,
  steadyLoadCostPerPipelineMonth,
} from './cost/idle-cost';
import { PRICES } from './cost/prices';
import { barChartSvg } from './report/chart';
import { resultsMarkdown, storageCostLines } from './report/markdown';
import { percentile } from './report/percentile';
import type { BenchResults, ByPayloadAndProducer, StorageCostResults, SystemResult } from './report/results';
import { evaluateTargets } from './report/targets';
import { EVENT_BYTES } from './support/bench-events';
import type { Endpoints } from './support/endpoints';
import { loadHistory, PRODUCERS, type Producer } from './support/history';
import { compressionRatios, PAYLOADS, type Payload } from './support/payloads';
import { spawnSystem } from './support/spawn-system';
import type { SystemReport } from './support/system-process';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const BENCH_DIRECTORY = import.meta.dirname;
const SYSTEMS = [
  'sluice',
  'sluice-1',
  'sluice-low-latency',
  'sluice-economy',
  'naive',
  'powertools',
  'raw',
] as const;
/** Systems that read the event log; `raw` sends its events itself. */
const READS_THE_LOG = new Set<string>(SYSTEMS.filter((name) => name !== 'raw'));

const quick = process.argv.includes('--quick');
const cpuProfile = process.argv.includes('--cpu-prof');
const storageCostOnly = process.argv.includes('--storage-cost-only');
/** `--systems=sluice,raw`: runs only those systems, prints their figures and writes nothing. */
const onlySystems = process.argv
  .find((argument) => argument.startsWith('--systems='))
  ?.slice('--systems='.length)
  .split(',');
for (const name of onlySystems ?? [])
  if (!(SYSTEMS as readonly string[]).includes(name))
    throw new Error(
      `--systems names "${name}", which is not a system; the systems are ${SYSTEMS.join(', ')}`,
    );
const SETTINGS = quick
  ? {
      events: 3_000,
      storageCostEvents: 3_000,
      hours: 4,
      live: { eventsPerSecond: 20, seconds: 8 },
      backlogs: [10_000, 50_000] as const,
    }
  : {
      events: 20_000,
      storageCostEvents: 10_000,
      hours: 6,
      live: { eventsPerSecond: 50, seconds: 30 },
      backlogs: [10_000, 200_000] as const,
    };

async function main(): Promise<void> {
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const profiles = cpuProfile ? resolve(BENCH_DIRECTORY, 'profiles') : undefined;
  if (profiles) await mkdir(profiles, { recursive: true });
  log(`Sluice benchmark (${quick ? 'quick' : 'full'}): ${SETTINGS.events} events of ${EVENT_BYTES} bytes`);
  const bundles = await measureBundles();
  log(`bundles: ${JSON.stringify(bundles)}`);

  const [dynamodbLocal, sqsEmulator] = await Promise.all([startDynamoDbLocal(), startSqsEmulator()]);
  try {
    const endpoints: Endpoints = { dynamodb: dynamodbLocal.endpoint, sqs: sqsEmulator.endpoint };
    if (storageCostOnly) {
      const storageCost = await measureStorageCost(endpoints, runId);
      console.log(storageCostLines(storageCost).join('\n'));
      return;
    }
    const systems: Record<string, SystemResult> = {};
    for (const name of SYSTEMS) {
      if (onlySystems && !onlySystems.includes(name)) continue;
      const prefix = `bench-${runId}-${name}`;
      const eventLogTable = `${prefix}-events`;
      if (READS_THE_LOG.has(name))
        await loadHistory({
          endpoints,
          tableName: eventLogTable,
          events: SETTINGS.events,
          hours: SETTINGS.hours,
          // The stream keeps the timing of its first commit; the system's writers and readers use the same.
          ...(name === 'sluice-low-latency' ? { streamTiming: LOW_LATENCY_STREAM_TIMING } : {}),
        });
      log(`${name}: running`);
      const report = await spawnSystem(
        name,
        { prefix, endpoints, eventLogTable, events: SETTINGS.events, live: SETTINGS.live },
        { timeoutMs: 900_000, ...(profiles ? { cpuProfileDirectory: resolve(profiles, name) } : {}) },
      );
      systems[name] = summarise(report);
      const result = systems[name];
      log(
        `${name}: ${result.eventsPerSecond} events/s, ${result.awsRequestsPer1000Events.total} billed requests per 1,000 events, $${result.usdPerMillionEvents} per million, p50 ${result.latencyP50Ms} ms, p99 ${result.latencyP99Ms} ms, peak RSS ${Math.round(result.peakRssBytes / 1048576)} MiB`,
      );
      // Run alone, a system's calls are printed by operation, since nothing else is written.
      if (onlySystems) log(`${name}: ${callsLine(report)}; ${result.notes.join('; ')}`);
    }

    if (onlySystems) return;
    const fetcherRuns: SystemReport[] = [];
    for (const backlog of SETTINGS.backlogs) {
      const prefix = `bench-${runId}-fetcher-${backlog}`;
      await loadHistory({ endpoints, tableName: `${prefix}-events`, events: backlog, hours: SETTINGS.hours });
      log(`fetcher alone: ${backlog} events of backlog`);
      fetcherRuns.push(
        await spawnSystem(
          'fetcher-alone',
          { prefix, endpoints, eventLogTable: `${prefix}-events`, events: backlog, live: SETTINGS.live },
          { timeoutMs: 900_000 },
        ),
      );
    }
    const [small, large] = fetcherRuns as [SystemReport, SystemReport];
    const storageCost = await measureStorageCost(endpoints, runId);
    const sluice = systems.sluice;
    if (sluice) {
      const pick = (figure: (run: StorageCostRun) => number) =>
        mapRuns(storageCost.runs, figure) as ByPayloadAndProducer<number>;
      systems.sluice = {
        ...sluice,
        writeUnitsPerEvent: pick((run) => run.writeUnitsPerEvent),
        usdPerMillionEventsEndToEnd: pick((run) => run.usdPerMillionEventsEndToEnd.total),
      };
    }
    const partial: Omit<BenchResults, 'targets'> = {
      date: new Date().toISOString(),
      mode: quick ? 'quick' : 'full',
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
        memoryBytes: totalmem(),
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
      },
      settings: {
        events: SETTINGS.events,
        eventBytes: EVENT_BYTES,
        hours: SETTINGS.hours,
        live: SETTINGS.live,
        prices: PRICES,
      },
      systems,
      bundles,
      idleUsdPerPipelineMonth: idleCosts(),
      steadyLoadUsdPerPipelineMonth: steadyLoadCosts(),
      fetcherMemory: {
        smallBacklog: small.events,
        largeBacklog: large.events,
        smallPeakRssBytes: small.peakRssBytes,
        largePeakRssBytes: large.peakRssBytes,
        ratio: Math.round((large.peakRssBytes / small.peakRssBytes) * 100) / 100,
        smallEventsPerSecond: Math.round((small.events * 1000) / small.elapsedMs),
        largeEventsPerSecond: Math.round((large.events * 1000) / large.elapsedMs),
      },
      storageCost,
    };
    const results: BenchResults = { ...partial, targets: evaluateTargets(partial) };
    await writeFile(resolve(BENCH_DIRECTORY, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    await writeFile(resolve(BENCH_DIRECTORY, 'results.svg'), chart(results));
    await writeFile(resolve(BENCH_DIRECTORY, 'RESULTS.md'), resultsMarkdown(results, 'results.svg'));
    for (const target of results.targets)
      log(`${target.met ? 'met   ' : 'MISSED'} ${target.target}: ${target.verdict}`);
    log('wrote bench/results.json, bench/RESULTS.md and bench/results.svg');
  } finally {
    await Promise.all([dynamodbLocal.stop(), sqsEmulator.stop()]);
  }
}

/** Round trips per 1,000 events by operation, with the billed units of each in brackets. */
function callsLine(report: SystemReport): string {
  const per1000 = (count: number) => Math.round((count * 100_000) / report.events) / 100;
  const operations = Object.entries(report.counts).map(
    ([operation, count]) =>
      `${operation} ${per1000(count.calls)} (${per1000(count.sqsRequests + count.readUnits + count.writeUnits)})`,
  );
  return `calls per 1,000 events (billed): ${operations.join(', ')}`;
}

function summarise(report: SystemReport): SystemResult {
  const usage = { events: report.events, counts: report.counts, lambdaInvocations: report.lambdaInvocations };
  const cost = costPerMillionEvents(usage);
  return {
    events: report.events,
    elapsedMs: Math.round(report.elapsedMs),
    eventsPerSecond: Math.round((report.events * 1000) / report.elapsedMs),
    awsRequestsPer1000Events: requestsPer1000Events(usage),
    usdPerMillionEvents: cost.total,
    usdBreakdown: cost,
    latencyP50Ms: percentile(report.latenciesMs, 50) ?? null,
    latencyP99Ms: percentile(report.latenciesMs, 99) ?? null,
    liveEvents: report.latenciesMs.length + report.liveMissing,
    liveMissing: report.liveMissing,
    peakRssBytes: report.peakRssBytes,
    notes: report.notes ?? [],
    ...(report.logTableUnits
      ? {
          logReadUnitsPer1000Events:
            Math.round((report.logTableUnits.readUnits * 100_000) / report.events) / 100,
        }
      : {}),
  };
}

/**
 * The storage-cost runs: for each payload and producer, a fresh log loaded by that producer (its
 * commits metered), then the `sluice` system with every default pumping and handling it, with no
 * live phase. Each combination is run, not derived from one, because how events were committed may
 * change what the fetcher reads (one stored item per commit, for instance).
 */
async function measureStorageCost(endpoints: Endpoints, runId: string): Promise<StorageCostResults> {
  const events = SETTINGS.storageCostEvents;
  const compression = Object.fromEntries(
    PAYLOADS.map((payload) => [payload, compressionRatios(payload, 1_000)]),
  ) as StorageCostResults['compression'];
  for (const payload of PAYLOADS) log(`${payload} payload: ${JSON.stringify(compression[payload])}`);
  const runs: Partial<Record<Payload, Partial<Record<Producer, StorageCostRun>>>> = {};
  for (const payload of PAYLOADS) {
    for (const producer of PRODUCERS) {
      const prefix = `bench-${runId}-cost-${payload}-${producer}`;
      const eventLogTable = `${prefix}-events`;
      const load = await loadHistory({
        endpoints,
        tableName: eventLogTable,
        events,
        hours: SETTINGS.hours,
        payload,
        producer,
      });
      const report = await spawnSystem(
        'sluice',
        { prefix, endpoints, eventLogTable, events, live: { eventsPerSecond: 1, seconds: 0 } },
        { timeoutMs: 900_000 },
      );
      if (!report.parts) throw new Error('the sluice system reported no split of its calls');
      const run = storageCostRun(
        { events, write: load.counts, ...report.parts },
        { logReadUnits: report.logTableUnits?.readUnits ?? 0, elapsedMs: report.elapsedMs },
      );
      runs[payload] = { ...runs[payload], [producer]: run };
      log(
        `storage cost, ${payload}, ${producer}: ${run.writeUnitsPerEvent} write units per event, $${run.usdPerMillionEventsEndToEnd.total} per million end to end (write $${run.usdPerMillionEventsEndToEnd.write}), ${run.logReadUnitsPer1000Events} log read units and ${run.sqsRequestsPer1000Events} SQS requests per 1,000 events`,
      );
    }
  }
  return { events, compression, runs: runs as StorageCostResults['runs'] };
}

function mapRuns<T>(
  runs: ByPayloadAndProducer<StorageCostRun>,
  figure: (run: StorageCostRun) => T,
): ByPayloadAndProducer<T> {
  return Object.fromEntries(
    PAYLOADS.map((payload) => [
      payload,
      Object.fromEntries(PRODUCERS.map((producer) => [producer, figure(runs[payload][producer])])),
    ]),
  ) as ByPayloadAndProducer<T>;
}

function chart(results: BenchResults): string {
  const entries = Object.entries(results.systems);
  return barChartSvg('Sluice and its alternatives: events per second and dollars per million events', [
    {
      title: `Events per second, end to end (higher is better) — ${results.date.slice(0, 10)}, same emulators`,
      bars: entries.map(([label, system]) => ({
        label,
        value: system.eventsPerSecond,
        text: system.eventsPerSecond.toLocaleString('en-US'),
      })),
    },
    {
      title: 'Framework overhead, $ per million 1 KB events (lower is better)',
      bars: entries.map(([label, system]) => ({
        label,
        value: system.usdPerMillionEvents,
        text: `$${system.usdPerMillionEvents.toFixed(4)}`,
      })),
    },
  ]);
}

function log(line: string): void {
  console.log(`[bench] ${line}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/** The steady-load cost model of each `latency`, with the parts of each. */
function steadyLoadCosts(): BenchResults['steadyLoadUsdPerPipelineMonth'] {
  const economy = steadyLoadCostPerPipelineMonth('economy');
  const balanced = steadyLoadCostPerPipelineMonth('balanced');
  const low = steadyLoadCostPerPipelineMonth('low');
  const windowed = steadyLoadCostPerPipelineMonth('balanced', { wakeBatchingWindow: Duration.seconds(1) });
  const parts = ({ total: _total, ...rest }: SteadyLoadCost) => rest;
  return {
    economy: economy.total,
    balanced: balanced.total,
    low: low.total,
    parts: { economy: parts(economy), balanced: parts(balanced), low: parts(low) },
    balancedWakeWindow1s: windowed.total,
    balancedWakeWindow1sParts: parts(windowed),
  };
}

/** The idle cost model of each `latency`, with the parts of each. */
function idleCosts(): BenchResults['idleUsdPerPipelineMonth'] {
  const economy = idleCostPerPipelineMonth('economy');
  const balanced = idleCostPerPipelineMonth('balanced');
  const low = idleCostPerPipelineMonth('low');
  const parts = ({ total: _total, from: _from, ...rest }: IdleCost) => rest;
  return {
    scheduleOnly: economy.total,
    economy: economy.total,
    balanced: balanced.total,
    low: low.total,
    parts: { economy: parts(economy), balanced: parts(balanced), low: parts(low) },
  };
}
