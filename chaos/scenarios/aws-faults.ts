import { EVENT_KINDS } from '../event-kinds';
import { runPipelineScenario, type Scenario } from '../scenario';

const kindOf = (_n: number, random: () => number) => {
  const draw = random();
  if (draw < 0.02) return EVENT_KINDS.poison;
  if (draw < 0.07) return EVENT_KINDS.flaky;
  return undefined;
};

/**
 * A tenth of every AWS request of every part (fetcher, worker, dead-letter consumer, event sources)
 * fails: throttling, 503s, and timeouts whose request was carried out. Injected inside the SDK's retry
 * loop, as AWS fails requests.
 */
export const awsFaults: Scenario = {
  name: 'aws-faults',
  description: '10% of AWS requests fail (throttling, 5xx, lost responses) inside the SDK retry loop',
  quick: true,
  run: (context) =>
    runPipelineScenario(
      context,
      { prefix: 'aws-faults', history: context.quick ? 300 : 1_500, faults: { rate: 0.1 }, kindOf },
      { start: async (pipeline) => pipeline.runFetcherLoop() },
    ),
};

/**
 * As {@link awsFaults}, but each chosen call (one in twenty) fails as a whole, outside the SDK's
 * retries: harsher than AWS, so that Sluice's own retries and its at-least-once paths carry
 * everything. A message of 100 events makes dozens of calls, and each delivery that meets a fault
 * backs off by its receive count (the default backoff, up to 5 minutes): at one call in ten, some
 * messages waited out several minutes of backoff before their events first ran.
 */
export const awsFaultsPerCall: Scenario = {
  name: 'aws-faults-per-call',
  description: '5% of AWS calls fail as a whole, outside the SDK retry loop',
  quick: false,
  run: (context) =>
    runPipelineScenario(
      context,
      {
        prefix: 'aws-calls',
        history: context.quick ? 300 : 1_500,
        faults: { rate: 0.05, placement: 'per-call' },
        kindOf,
      },
      { start: async (pipeline) => pipeline.runFetcherLoop() },
      // A failed record of a failure (a backoff, a dead-letter send) leaves the message to its
      // visibility timeout (30 s here): poison events can take minutes to reach the failed handler.
      300_000,
    ),
};
