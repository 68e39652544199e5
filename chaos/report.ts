import { VIOLATION_KINDS, violationsOf } from './invariants';
import type { Scenario, ScenarioOutcome } from './scenario';

/** One scenario's line in the report. */
export interface ScenarioReport {
  readonly scenario: string;
  readonly seed: number;
  readonly eventsCommitted: number;
  readonly lost: number;
  readonly doubleEffects: number;
  readonly checkpointRegressions: number;
  readonly failedHandlerDuplicates: number;
  readonly doubleCommits: number;
  readonly effectAndHandOver: number;
  readonly orderInversions: number;
  readonly untrueFailures: number;
  readonly violations: number;
  readonly delivered: number;
  readonly reportedExpired: number;
  readonly deadLettered: number;
  readonly handlerReruns: number;
  readonly failedHandlerReruns: number;
  readonly duplicatesSkipped: number;
  readonly faultsInjected: number;
  readonly workerFailedBatches: number;
  readonly fetcherRuns: number;
  readonly settled: boolean;
  readonly seconds: number;
  readonly notes: Readonly<Record<string, unknown>>;
  readonly knownGap?: string;
  readonly lostSample?: readonly string[];
  readonly violationSample?: readonly string[];
  /** Set when the scenario itself failed to run: counted as a violation. */
  readonly error?: string;
  /** The command that runs this scenario again with the same seed. */
  readonly replay: string;
}

/** The whole run: per scenario, and totals. */
export interface ChaosReport {
  readonly seed: number;
  readonly quick: boolean;
  readonly scenarios: readonly ScenarioReport[];
  /** Scenarios not run, and why. */
  readonly excluded: readonly { readonly scenario: string; readonly reason: string }[];
  readonly eventsCommitted: number;
  readonly lost: number;
  readonly doubleEffects: number;
  readonly checkpointRegressions: number;
  readonly failedHandlerDuplicates: number;
  readonly doubleCommits: number;
  readonly effectAndHandOver: number;
  readonly orderInversions: number;
  readonly untrueFailures: number;
  readonly violations: number;
  readonly seconds: number;
}

/**
 * One scenario's report line, from its outcome or the error it failed with.
 *
 * @example
 * ```ts
 * scenarioReport(scenario, seed, { outcome }, 12.5);
 * ```
 */
export function scenarioReport(
  scenario: Scenario,
  seed: number,
  result: { outcome: ScenarioOutcome } | { error: unknown },
  seconds: number,
): ScenarioReport {
  const replay = `npm run chaos -- --seed ${seed} --scenario ${scenario.name}`;
  const gap = scenario.knownGap ? { knownGap: scenario.knownGap } : {};
  if ('error' in result) {
    const message = result.error instanceof Error ? result.error.message : String(result.error);
    return {
      scenario: scenario.name,
      seed,
      eventsCommitted: 0,
      lost: 0,
      doubleEffects: 0,
      checkpointRegressions: 0,
      failedHandlerDuplicates: 0,
      doubleCommits: 0,
      effectAndHandOver: 0,
      orderInversions: 0,
      untrueFailures: 0,
      violations: 1,
      delivered: 0,
      reportedExpired: 0,
      deadLettered: 0,
      handlerReruns: 0,
      failedHandlerReruns: 0,
      duplicatesSkipped: 0,
      faultsInjected: 0,
      workerFailedBatches: 0,
      fetcherRuns: 0,
      settled: false,
      seconds,
      notes: {},
      ...gap,
      error: message,
      replay,
    };
  }
  const { counts, activity, settled, notes } = result.outcome;
  return {
    scenario: scenario.name,
    seed,
    eventsCommitted: counts.eventsCommitted,
    lost: counts.lost,
    doubleEffects: counts.doubleEffects,
    checkpointRegressions: counts.checkpointRegressions,
    failedHandlerDuplicates: counts.failedHandlerDuplicates,
    doubleCommits: counts.doubleCommits,
    effectAndHandOver: counts.effectAndHandOver,
    orderInversions: counts.orderInversions,
    untrueFailures: counts.untrueFailures,
    violations: violationsOf(counts),
    delivered: counts.delivered,
    reportedExpired: counts.reportedExpired,
    deadLettered: counts.deadLettered,
    handlerReruns: counts.handlerReruns,
    failedHandlerReruns: counts.failedHandlerReruns,
    duplicatesSkipped: activity.duplicatesSkipped,
    faultsInjected: activity.faults.injected,
    workerFailedBatches: activity.workerFailedBatches,
    fetcherRuns: activity.fetcherRuns,
    settled,
    seconds,
    notes: { ...notes, ...(activity.faults.injected > 0 ? { faults: activity.faults.byKind } : {}) },
    ...gap,
    ...(counts.lostSample.length > 0 ? { lostSample: counts.lostSample } : {}),
    ...(counts.violationSample.length > 0 ? { violationSample: counts.violationSample } : {}),
    replay,
  };
}

/**
 * The run's report: the scenarios' lines and their totals.
 *
 * @example
 * ```ts
 * const report = chaosReport({ seed: 1, quick: true, scenarios, excluded: [], seconds: 95 });
 * ```
 */
export function chaosReport(run: {
  seed: number;
  quick: boolean;
  scenarios: readonly ScenarioReport[];
  excluded: ChaosReport['excluded'];
  seconds: number;
}): ChaosReport {
  const sum = (key: keyof ScenarioReport) =>
    run.scenarios.reduce((total, scenario) => total + (scenario[key] as number), 0);
  return {
    seed: run.seed,
    quick: run.quick,
    scenarios: run.scenarios,
    excluded: run.excluded,
    eventsCommitted: sum('eventsCommitted'),
    lost: sum('lost'),
    doubleEffects: sum('doubleEffects'),
    checkpointRegressions: sum('checkpointRegressions'),
    failedHandlerDuplicates: sum('failedHandlerDuplicates'),
    doubleCommits: sum('doubleCommits'),
    effectAndHandOver: sum('effectAndHandOver'),
    orderInversions: sum('orderInversions'),
    untrueFailures: sum('untrueFailures'),
    violations: sum('violations'),
    seconds: run.seconds,
  };
}

/**
 * A scenario's line for people: its counts, and the replay command when something was violated.
 *
 * @example
 * ```ts
 * console.error(describeScenario(report));
 * ```
 */
export function describeScenario(report: ScenarioReport): string {
  const violations = VIOLATION_KINDS.map((kind) => `${kind} ${report[kind]}`).join(', ');
  const head = `${report.violations === 0 ? 'ok  ' : 'FAIL'} ${report.scenario.padEnd(34)} ${String(report.eventsCommitted).padStart(5)} events, ${violations} (${report.seconds.toFixed(1)} s; delivered ${report.delivered}, dead-lettered ${report.deadLettered}, expired ${report.reportedExpired}, handler re-runs ${report.handlerReruns}, failed-handler re-runs ${report.failedHandlerReruns}, faults ${report.faultsInjected})`;
  const lines = [head];
  for (const text of report.violationSample ?? []) lines.push(`     ${text}`);
  if (report.lostSample) lines.push(`     lost: ${report.lostSample.join(', ')}`);
  if (report.error) lines.push(`     error: ${report.error}`);
  if (!report.settled && !report.error) lines.push('     did not settle before its time ran out');
  if (report.knownGap) lines.push(`     known gap: ${report.knownGap}`);
  if (report.violations > 0) lines.push(`     replay: ${report.replay}`);
  return lines.join('\n');
}
