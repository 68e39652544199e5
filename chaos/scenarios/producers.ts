import { type EventLog, SluiceError } from '../../lib';
import { ConflictError } from '../../lib/errors';
import { FETCHER_STEPS, type FetcherStep } from '../../lib/fetcher/types';
import { type FaultInjector, injectFaults } from '../../lib/testing/faults';
import { seededRandom } from '../../test/support/fixtures';
import { commitSurely } from '../commit-surely';
import { awsClients } from '../environment';
import type { ChaosPipeline } from '../harness';
import { pause } from '../pause';
import { runPipelineScenario, type Scenario } from '../scenario';

const WRITES = ['PutItemCommand', 'TransactWriteItemsCommand'];

/** What live producers did. */
export interface ProducerCounts {
  /** Commits that succeeded (after any re-commit of what had not landed). */
  commits: number;
  /** Commits whose outcome was unknown at first (then checked with get()). */
  unknownOutcomes: number;
  /** Commits refused with a clear error, by code (a conflict with its kind): nothing of them was written. */
  refused: Record<string, number>;
}

/** How a refused commit is counted: its code, and for a conflict its kind (`conflict:stream-timing`). */
function refusalOf(error: SluiceError): string {
  return error instanceof ConflictError ? `${error.code}:${error.kind}` : error.code;
}

/**
 * Commits events from each of `logs` until `durationMs` has passed: one to ten events per commit,
 * each commit made surely (see {@link commitSurely}). A commit refused with a Sluice error whose code
 * (and kind, for a conflict) is in `refusals` is counted and the producer goes on; any other error fails the scenario.
 *
 * @example
 * ```ts
 * const producers = produceLive(pipeline, [pipeline.eventLog], { durationMs: 5_000, random });
 * await producers.done;
 * ```
 */
export function produceLive(
  pipeline: ChaosPipeline,
  logs: readonly EventLog[],
  options: { durationMs: number; random: () => number; refusals?: readonly string[] },
): { done: Promise<void>; counts: ProducerCounts } {
  const counts: ProducerCounts = { commits: 0, unknownOutcomes: 0, refused: {} };
  const until = Date.now() + options.durationMs;
  const done = Promise.all(
    logs.map(async (log) => {
      while (Date.now() < until) {
        const inputs = pipeline.nextInputs(1 + Math.floor(options.random() * 10));
        try {
          counts.unknownOutcomes += await commitSurely(log, inputs);
          counts.commits += 1;
        } catch (error) {
          const refusal = error instanceof SluiceError ? refusalOf(error) : undefined;
          if (refusal === undefined || !options.refusals?.includes(refusal)) throw error;
          counts.refused[refusal] = (counts.refused[refusal] ?? 0) + 1;
        }
        await pause(20);
      }
    }),
  ).then(() => undefined);
  return { done, counts };
}

/**
 * The fetcher dies (as a `kill -9` would: at a named step, no clean-up, its lease held) in most of
 * its runs while two producers keep committing, so each successor re-reads a grown page and packs it
 * differently: a re-sent event must be recognised whatever message it travels in.
 */
export const crashWhileProducing: Scenario = {
  name: 'crash-while-producing',
  description: 'the fetcher crashes at a random step in most runs while producers keep committing',
  quick: true,
  run: (context) => {
    const random = seededRandom(context.seed);
    const steps = Object.values(FETCHER_STEPS);
    const crashed: FetcherStep[] = [];
    let producers: ReturnType<typeof produceLive> | undefined;
    return runPipelineScenario(
      context,
      { prefix: 'crash-producing' },
      {
        start: async (pipeline) => {
          const { dynamodb } = awsClients(context.endpoints);
          producers = produceLive(pipeline, [pipeline.writerLog({ client: dynamodb }), pipeline.eventLog], {
            durationMs: context.quick ? 5_000 : 15_000,
            random,
          });
          return pipeline.runFetcherLoop(() => {
            // Two runs in three crash, each at a step chosen by the seed, the first time it reaches it.
            const crashAt = random() < 2 / 3 ? steps[Math.floor(random() * steps.length)] : undefined;
            return pipeline.fetcher({
              onStep: (step) => {
                if (step === crashAt && producers) {
                  crashed.push(step);
                  throw new Error(`crash at ${step}`);
                }
              },
            });
          });
        },
        committed: async (pipeline) => {
          await producers?.done;
          return pipeline.committedIds();
        },
        notes: () => ({ crashes: crashed.length, ...producers?.counts }),
      },
    );
  },
};

/**
 * A fifth of the producers' writes lose their response after DynamoDB applied them, or fail with a
 * 503 before it, outside the SDK's retries (SDK middleware: the emulator never does this). Producers
 * recover as documented: check the ids with get() and commit only what did not land. No event may be
 * stored twice, and everything stored is delivered.
 */
export const producerFaults: Scenario = {
  name: 'producer-faults',
  description: "a fifth of producers' writes lose their response after the write applied, or fail with 503",
  quick: true,
  run: (context) => {
    const random = seededRandom(context.seed);
    let producers: ReturnType<typeof produceLive> | undefined;
    const injectors: FaultInjector[] = [];
    return runPipelineScenario(
      context,
      { prefix: 'producer-faults' },
      {
        start: async (pipeline) => {
          const logs = [1, 2].map((writer) => {
            const { dynamodb } = awsClients(context.endpoints);
            const injector = injectFaults(
              dynamodb,
              {
                rate: 0.2,
                seed: context.seed,
                kinds: ['timeout', 'server-error'],
                operations: WRITES,
                placement: 'per-call',
              },
              `producer-${writer}`,
            );
            injectors.push(injector);
            return pipeline.writerLog({ client: dynamodb });
          });
          producers = produceLive(pipeline, logs, { durationMs: context.quick ? 4_000 : 12_000, random });
          return pipeline.runFetcherLoop();
        },
        committed: async (pipeline) => {
          await producers?.done;
          return pipeline.committedIds();
        },
        notes: () => ({
          ...producers?.counts,
          producerFaults: injectors.reduce((sum, injector) => sum + injector.counts().injected, 0),
        }),
      },
    );
  },
};

/**
 * Writers beyond the clock bound: clocks 5 s slow and 5 s fast (the stream's settle window is
 * 1.5 s), and one writer that declares its own longer commit deadline. Their commits must be held to
 * DynamoDB's clock and delivered, or refused with a clear error (`ConflictError` with kind `stream-timing` for the
 * declared deadline): no event may be skipped silently.
 */
export const writerSkew: Scenario = {
  name: 'writer-skew',
  description:
    'writers with clocks 5 s off and one with its own longer commit deadline, against a tailing fetcher',
  quick: false,
  run: (context) => {
    const random = seededRandom(context.seed);
    let producers: ReturnType<typeof produceLive> | undefined;
    return runPipelineScenario(
      context,
      { prefix: 'writer-skew', pipeline: { start: 'latest' } },
      {
        start: async (pipeline) => {
          const stopFetchers = pipeline.runFetcherLoop(() => pipeline.fetcher(), 3_000);
          await pause(500);
          const logs = [
            { skewMs: 0 },
            { skewMs: -5_000 },
            { skewMs: 5_000 },
            { skewMs: 0, timing: { commitDeadlineMs: 3_000, settleWindowMs: 4_000 } },
          ].map(({ skewMs, timing }) =>
            pipeline.writerLog({
              client: awsClients(context.endpoints).dynamodb,
              clock: () => Date.now() + skewMs,
              ...timing,
            }),
          );
          producers = produceLive(pipeline, logs, {
            durationMs: context.quick ? 4_000 : 10_000,
            random,
            refusals: ['conflict:stream-timing', 'commit-refused'],
          });
          return stopFetchers;
        },
        committed: async (pipeline) => {
          await producers?.done;
          return pipeline.committedIds();
        },
        notes: () => ({ ...producers?.counts }),
      },
    );
  },
};
