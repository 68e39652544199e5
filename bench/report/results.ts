import type { PipelineLatency } from '../../lib/settings/latency';
import type { CostPerMillionEvents, RequestsPer1000Events } from '../cost/cost-model';
import type { StorageCostRun } from '../cost/end-to-end';
import type { Producer } from '../support/history';
import type { CompressionRatios, Payload } from '../support/payloads';

/** A figure for each payload and each producer. */
export type ByPayloadAndProducer<T> = Readonly<Record<Payload, Readonly<Record<Producer, T>>>>;

/** One system's figures in `bench/results.json`. */
export interface SystemResult {
  readonly events: number;
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
  readonly awsRequestsPer1000Events: RequestsPer1000Events;
  /** The framework's own cost; `usdBreakdown` splits it by service. */
  readonly usdPerMillionEvents: number;
  readonly usdBreakdown: CostPerMillionEvents;
  readonly latencyP50Ms: number | null;
  readonly latencyP99Ms: number | null;
  readonly liveEvents: number;
  readonly liveMissing: number;
  readonly peakRssBytes: number;
  readonly notes: readonly string[];
  /** The request units of the system's reads of the event log table, per 1,000 events (Sluice only). */
  readonly logReadUnitsPer1000Events?: number;
  /** The producer's DynamoDB write units per event, from the storage-cost runs (`sluice` only). */
  readonly writeUnitsPerEvent?: ByPayloadAndProducer<number>;
  /** Write + pump + handle, dollars per million events, from the storage-cost runs (`sluice` only). */
  readonly usdPerMillionEventsEndToEnd?: ByPayloadAndProducer<number>;
}

/** The storage-cost runs: the `sluice` system end to end, for each payload and each producer. */
export interface StorageCostResults {
  readonly events: number;
  readonly compression: Readonly<Record<Payload, CompressionRatios>>;
  readonly runs: ByPayloadAndProducer<StorageCostRun>;
}

/** A target of the benchmark and how the run fared against it. */
export interface TargetResult {
  readonly target: string;
  readonly measured: number;
  readonly limit: number;
  readonly met: boolean;
  /** How far off, in words: "met", or "missed: 432 against at most 40 (10.8×)". */
  readonly verdict: string;
}

/** The whole of `bench/results.json`. */
export interface BenchResults {
  readonly date: string;
  readonly mode: 'quick' | 'full';
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryBytes: number;
    readonly node: string;
    readonly platform: string;
  };
  readonly settings: {
    readonly events: number;
    readonly eventBytes: number;
    readonly hours: number;
    readonly live: { readonly eventsPerSecond: number; readonly seconds: number };
    readonly prices: Readonly<Record<string, number | string>>;
  };
  readonly systems: Readonly<Record<string, SystemResult>>;
  readonly bundles: Readonly<Record<string, number>>;
  readonly fetcherMemory: {
    readonly smallBacklog: number;
    readonly largeBacklog: number;
    readonly smallPeakRssBytes: number;
    readonly largePeakRssBytes: number;
    readonly ratio: number;
    readonly smallEventsPerSecond: number;
    readonly largeEventsPerSecond: number;
  };
  /**
   * A pipeline's monthly cost with no traffic, in US dollars, modelled from the template `EventPipeline`
   * synthesizes (`bench/cost/idle-cost.ts`): schedule-only (today's `economy`) and each `latency`.
   */
  readonly idleUsdPerPipelineMonth: {
    readonly scheduleOnly: number;
    readonly economy: number;
    readonly balanced: number;
    /** Absent from runs before `latency: 'low'`. */
    readonly low?: number;
    readonly parts: Readonly<Partial<Record<PipelineLatency, Readonly<Record<string, number>>>>>;
  };
  /**
   * A pipeline's monthly cost beside its events when its stream never goes quiet, modelled the same
   * way (`steadyLoadCostPerPipelineMonth`), for each `latency`. Absent from runs before it was modelled.
   */
  readonly steadyLoadUsdPerPipelineMonth?: {
    readonly economy: number;
    readonly balanced: number;
    readonly low: number;
    readonly parts: Readonly<Record<PipelineLatency, Readonly<Record<string, number>>>>;
    /**
     * `balanced` on a log whose `wakeBatchingWindow` is one second, and its parts. Absent from runs
     * before the window could be set.
     */
    readonly balancedWakeWindow1s?: number;
    readonly balancedWakeWindow1sParts?: Readonly<Record<string, number>>;
  };
  /** Absent from runs before issue 17's measurements. */
  readonly storageCost?: StorageCostResults;
  readonly targets: readonly TargetResult[];
}
