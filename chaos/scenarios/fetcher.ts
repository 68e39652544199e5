import { FETCHER_STEPS, type FetcherStep } from '../../lib/fetcher/types';
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
