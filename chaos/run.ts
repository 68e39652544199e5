// The fault-injection runner: `npm run chaos -- [--quick] [--json] [--seed N] [--scenario name]`.
// It starts DynamoDB Local and the SQS emulator, runs each scenario against real parts with faults
// injected, checks the invariants of DESIGN.md after each, and prints one JSON object last with
// `--json`. Any violation exits non-zero and names the seed and the command that replays it.

import { startEmulators } from '../lib/local';
import { type ChaosArguments, parseArguments, USAGE } from './arguments';
import { VIOLATION_KINDS } from './invariants';
import { chaosReport, describeScenario, type ScenarioReport, scenarioReport } from './report';
import { SCENARIOS } from './scenarios';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  let args: ChaosArguments;
  try {
    args = parseArguments(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const chosen = SCENARIOS.filter((scenario) =>
    args.scenarios ? args.scenarios.includes(scenario.name) : !args.quick || scenario.quick,
  );
  const excluded = SCENARIOS.filter((scenario) => !chosen.includes(scenario)).map((scenario) => ({
    scenario: scenario.name,
    reason: args.scenarios
      ? 'not chosen'
      : (scenario.knownGap ?? 'full run only: it takes longer than the quick set allows'),
  }));
  const started = Date.now();
  console.error(
    `chaos: ${chosen.length} scenario(s), seed ${args.seed}${args.quick ? ', quick' : ''}, ${args.concurrency} at once`,
  );
  const emulators = await startEmulators();
  const reports: ScenarioReport[] = new Array(chosen.length);
  try {
    // A pool of `concurrency` runners takes the scenarios in order; the report keeps that order.
    let next = 0;
    const runner = async () => {
      for (let index = next++; index < chosen.length; index = next++) {
        const scenario = chosen[index] as (typeof chosen)[number];
        const scenarioStarted = Date.now();
        const result = await scenario
          .run({ endpoints: emulators.endpoints, seed: args.seed, quick: args.quick })
          .then((outcome) => ({ outcome }))
          .catch((error: unknown) => ({ error }));
        const report = scenarioReport(scenario, args.seed, result, (Date.now() - scenarioStarted) / 1000);
        reports[index] = report;
        console.error(describeScenario(report));
      }
    };
    await Promise.all(Array.from({ length: Math.min(args.concurrency, chosen.length) }, runner));
  } finally {
    await emulators.stop();
  }
  const report = chaosReport({
    seed: args.seed,
    quick: args.quick,
    scenarios: reports,
    excluded,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  });
  console.error(
    `chaos: ${report.eventsCommitted} events committed; ${VIOLATION_KINDS.map((kind) => `${kind} ${report[kind]}`).join(', ')}; ${report.seconds} s`,
  );
  if (report.violations > 0)
    console.error(
      `chaos: ${report.violations} violation(s) with seed ${args.seed}; replay with: npm run chaos -- --seed ${args.seed} --scenario ${reports
        .filter((scenario) => scenario.violations > 0)
        .map((scenario) => scenario.scenario)
        .join(',')}`,
    );
  if (args.json) console.log(JSON.stringify(report));
  return report.violations > 0 ? 1 : 0;
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
