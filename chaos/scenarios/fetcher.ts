import { FETCHER_STEPS, type FetcherStep } from '../../lib/fetcher/types';
import { isDeliveredAt } from '../../lib/time/position';
import { seededRandom } from '../../test/support/fixtures';
import { commitSurely } from '../commit-surely';
import { pause } from '../pause';
import { runPipelineScenario, type Scenario } from '../scenario';

/**
 * The fetcher dies at each of its named crash points in turn, one run each, with no clean-up: its
 * lease stays held until it expires, its page may be in the queue with no checkpoint behind it. The
 * runs after it, each a new owner, must deliver everything.
 */
export const fetcherCrashes: Scenario = {
  name: 'fetcher-crashes',
  description: 'the fetcher crashes at every named point in turn; new fetchers take over',
  quick: true,
  run: (context) => {
    const steps = Object.values(FETCHER_STEPS);
    const crashed: FetcherStep[] = [];
    return runPipelineScenario(
      context,
      { prefix: 'fetcher-crash', history: context.quick ? 300 : 1_500 },
      {
        start: async (pipeline) =>
          pipeline.runFetcherLoop(() =>
            pipeline.fetcher({
              onStep: (step) => {
                const next = steps[crashed.length];
                if (step === next) {
                  crashed.push(step);
                  throw new Error(`crash at ${step}`);
                }
              },
            }),
          ),
        notes: () => ({ crashedAt: crashed }),
      },
    );
  },
};

/** Four fetchers run at once on one pipeline, again and again: one works at a time, fenced. */
export const fetcherRace: Scenario = {
  name: 'fetcher-race',
  description: 'four fetchers race on one pipeline with short leases',
  quick: true,
  run: (context) =>
    runPipelineScenario(
      context,
      { prefix: 'fetcher-race', history: context.quick ? 400 : 2_000 },
      {
        start: async (pipeline) => {
          const stops = Array.from({ length: 4 }, () =>
            pipeline.runFetcherLoop(() => pipeline.fetcher({ leaseDurationMs: 1_000 }), 700),
          );
          return async () => {
            await Promise.all(stops.map((stop) => stop()));
          };
        },
      },
    ),
};

/**
 * Fetchers stall mid-run past their lease (a long GC pause, a slow network) before a checkpoint or
 * after a send, while another fetcher takes over: the stalled one's writes must be refused by the
 * fencing token, and nothing skipped.
 */
export const leaseExpiry: Scenario = {
  name: 'lease-expiry',
  description: 'fetchers stall past their lease mid-run while others take over',
  quick: true,
  run: (context) => {
    let stalls = 0;
    return runPipelineScenario(
      context,
      { prefix: 'lease-expiry', history: context.quick ? 400 : 2_000 },
      {
        start: async (pipeline) => {
          // Each run stalls once, where it first reaches its step: before a checkpoint, or after a send.
          const stalling = () => {
            const stallAt = stalls % 2 === 0 ? FETCHER_STEPS.beforeCheckpoint : FETCHER_STEPS.afterSend;
            let stalled = false;
            return pipeline.fetcher({
              leaseDurationMs: 1_000,
              onStep: async (step) => {
                if (step === stallAt && !stalled) {
                  stalled = true;
                  stalls += 1;
                  await pause(1_400);
                }
              },
            });
          };
          const stops = [
            pipeline.runFetcherLoop(stalling, 3_000),
            pipeline.runFetcherLoop(() => pipeline.fetcher({ leaseDurationMs: 1_000 }), 1_000),
          ];
          return async () => {
            await Promise.all(stops.map((stop) => stop()));
          };
        },
        notes: () => ({ stalls }),
      },
    );
  },
};

/**
 * Runs woken on commit, as the waker starts them on AWS, and nothing else: no schedule behind them.
 * In each round a producer commits a burst (a few commits, 30 to 600 ms apart) and a run starts
 * within 250 ms of every commit, whether another run holds the lease or not; each run leaves once
 * idle (300 ms, shorter than the settle window), or at a deadline drawn by the seed (300 ms to
 * 2.5 s), handing the events it found past its position over to a new run. Runs that find the lease
 * held leave their events to the holder. The round ends when every run has ended: a round whose
 * events a run left behind ends the scenario, with no run to deliver them, so they count as lost.
 */
export const wokenFetchers: Scenario = {
  name: 'woken-fetchers',
  description: 'a run woken for every commit, racing the run that holds the lease; hand-overs at deadlines',
  quick: true,
  run: (context) => {
    const random = seededRandom(context.seed);
    const counts = { rounds: 0, commits: 0, woken: 0, handedOver: 0, leftToHolder: 0 };
    let producing: Promise<void> | undefined;
    return runPipelineScenario(
      context,
      { prefix: 'woken', history: context.quick ? 200 : 1_000 },
      {
        start: async (pipeline) => {
          const running = new Set<Promise<void>>();
          const wake = (readThrough?: string) => {
            counts.woken += 1;
            const fetcher = pipeline.fetcher({
              handOff: async (_pipeline, through) => {
                counts.handedOver += 1;
                wake(through);
              },
            });
            const budgetMs = 300 + Math.floor(random() * 2_200);
            const run: Promise<void> = fetcher
              .run({ budgetMs, untilIdleMs: 300, ...(readThrough ? { readThrough } : {}) })
              .then((summary) => {
                for (const ended of Object.values(summary.pipelines))
                  if (ended.stopReason === 'left to the fetcher holding the lease') counts.leftToHolder += 1;
              })
              .finally(() => running.delete(run));
            running.add(run);
          };
          const allEnded = async () => {
            while (running.size > 0) await Promise.all([...running]);
          };
          producing = (async () => {
            wake();
            for (let round = 0; round < (context.quick ? 6 : 20); round += 1) {
              counts.rounds += 1;
              for (let commit = 1 + Math.floor(random() * 4); commit > 0; commit -= 1) {
                await commitSurely(pipeline.eventLog, pipeline.nextInputs(1 + Math.floor(random() * 5)));
                counts.commits += 1;
                await pause(Math.floor(random() * 250));
                wake();
                await pause(30 + Math.floor(random() * 570));
              }
              await allEnded();
              const newest = (await pipeline.committedIds()).reduce((a, b) => (a > b ? a : b), '');
              const state = await pipeline.store.getState(pipeline.name);
              if (!state || !isDeliveredAt(state.position, newest)) return;
            }
          })();
          return allEnded;
        },
        committed: async (pipeline) => {
          await producing;
          return pipeline.committedIds();
        },
        notes: () => counts,
      },
    );
  },
};
