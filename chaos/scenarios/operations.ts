import { ConflictError } from '../../lib/errors';
import { queueDepth } from '../../lib/fetcher/queue-depth';
import { seededRandom } from '../../test/support/fixtures';
import { countQueries } from '../../test/support/inject';
import { commitSurely } from '../commit-surely';
import { awsClients } from '../environment';
import { EVENT_KINDS } from '../event-kinds';
import { groupBatchReceives, startFifoBatchingSqs } from '../fifo-batches';
import { pause } from '../pause';
import { runPipelineScenario, type Scenario } from '../scenario';
import { produceLive } from './producers';

/**
 * Poison events reach the failed-event function, which consumes the dead-letter queue and writes
 * failure records (the deployed wiring). The handler is then fixed and `redriveFailures` sends them
 * back from their records: each must then have exactly one effect.
 */
export const redriveDeployed: Scenario = {
  name: 'redrive-deployed',
  description: 'poison events are handed over, the handler is fixed, and redriveFailures re-runs them',
  quick: true,
  run: (context) => {
    let redrive: Record<string, unknown> = {};
    return runPipelineScenario(
      context,
      {
        prefix: 'redrive',
        history: context.quick ? 300 : 1_000,
        kindOf: (_n, random) => (random() < 0.03 ? EVENT_KINDS.poison : undefined),
      },
      {
        start: async (pipeline) => pipeline.runFetcherLoop(),
        committed: async (pipeline) => {
          const ids = await pipeline.committedIds();
          if (!(await pipeline.waitUntilSettled(ids, 120_000)))
            throw new Error('the poison events did not all reach the failed handler within 120 s');
          const handed = pipeline.handedOverIds().length;
          pipeline.fixHandler();
          const result = await pipeline.redriveFailures();
          redrive = { handedOver: handed, examined: result.examined, moved: result.moved };
          if (result.moved !== handed)
            throw new Error(`redriveFailures moved ${result.moved} events, but ${handed} were handed over`);
          return ids;
        },
        notes: () => ({ redrive }),
      },
    );
  },
};

/**
 * A pipeline that takes one event type, behind a large backlog of another: each fetcher run must do
 * bounded work and checkpoint as it goes, so the pipeline advances and reaches the events it takes.
 */
export const typeFilterBacklog: Scenario = {
  name: 'type-filter-backlog',
  description: 'a pipeline filtering event types over a large non-matching backlog',
  quick: false,
  run: (context) => {
    // One counter per fetcher, and each fetcher does one run.
    const counters: ReturnType<typeof countQueries>[] = [];
    const backlog = context.quick ? 5_000 : 10_000;
    return runPipelineScenario(
      context,
      {
        prefix: 'type-filter',
        pipeline: { eventTypes: ['order'] },
        instrument: (part, clients) => {
          if (part.startsWith('fetcher-')) counters.push(countQueries(clients.dynamodb));
        },
      },
      {
        start: async (pipeline) => {
          await commitSurely(pipeline.eventLog, pipeline.nextInputs(20));
          for (let start = 0; start < backlog; start += 100) {
            const noise = pipeline.nextInputs(100).map((input) => ({ ...input, type: 'noise' }));
            await commitSurely(pipeline.eventLog, noise);
          }
          await commitSurely(pipeline.eventLog, pipeline.nextInputs(20));
          return pipeline.runFetcherLoop();
        },
        committed: (pipeline) => pipeline.committedIds('order'),
        notes: () => {
          const perRun = counters.map((counter) => counter.take());
          return {
            backlog,
            maxQueriesPerRun: Math.max(0, ...perRun.map((run) => run.queries)),
            maxItemsExaminedPerRun: Math.max(0, ...perRun.map((run) => run.items)),
          };
        },
      },
    );
  },
};

/** The handler returns three outputs per event, with up to 100 events per message: 300 outputs to commit per message. */
export const outputsOver100: Scenario = {
  name: 'outputs-over-100',
  description: 'three outputs per event, 100 events per message: over 100 outputs per message',
  quick: true,
  run: (context) =>
    runPipelineScenario(
      context,
      {
        prefix: 'outputs',
        history: context.quick ? 300 : 1_000,
        outputsPerEvent: 3,
        kindOf: (_n, random) => (random() < 0.05 ? EVENT_KINDS.flaky : undefined),
      },
      { start: async (pipeline) => pipeline.runFetcherLoop() },
    ),
};

/**
 * Events expire (DynamoDB TTL) before a lagging pipeline reads them: the emulator never deletes by
 * TTL, so the expired items are deleted before the pipeline starts. The pipeline must report the
 * range it can no longer read (its run's `expired`, the ExpiredRanges metric); only events inside a
 * reported range count as expired, any other missing one is lost.
 */
export const ttlExpiry: Scenario = {
  name: 'ttl-expiry',
  description: 'events expire by TTL (deletion injected) before a lagging pipeline reads them',
  quick: true,
  run: (context) => {
    let committed: string[] = [];
    let deleted = 0;
    const hours = 3;
    return runPipelineScenario(
      context,
      {
        prefix: 'ttl',
        history: context.quick ? 300 : 1_000,
        historyHours: hours,
        retentionSeconds: 3_600,
        pipeline: { start: { time: new Date(Date.now() - hours * 3_600_000 - 600_000).toISOString() } },
      },
      {
        start: async (pipeline) => {
          committed = await pipeline.committedIds();
          deleted = await pipeline.expireByTtl();
          return pipeline.runFetcherLoop();
        },
        committed: async () => committed,
        notes: () => ({ itemsDeletedByTtl: deleted }),
      },
    );
  },
};

/**
 * Seeks while the fetcher works and producers commit: each seek moves the pipeline to its own
 * checkpoint (read just before), racing the fetcher's checkpoint writes. Every seek must succeed or
 * fail with an error that says why (`ConflictError` with kind `seek-contention`); nothing may be lost. A seek is a replay:
 * events after its position may be handled once more per seek, never more.
 */
export const seekWhileFetching: Scenario = {
  name: 'seek-while-fetching',
  description: 'seeks race the working fetcher while producers commit',
  quick: true,
  run: (context) => {
    const random = seededRandom(context.seed);
    let producers: ReturnType<typeof produceLive> | undefined;
    const seeks = { done: 0, refused: {} as Record<string, number> };
    let seeking: Promise<void> = Promise.resolve();
    return runPipelineScenario(
      context,
      { prefix: 'seek', history: context.quick ? 300 : 1_000 },
      {
        start: async (pipeline) => {
          const { dynamodb } = awsClients(context.endpoints);
          producers = produceLive(pipeline, [pipeline.writerLog({ client: dynamodb })], {
            durationMs: context.quick ? 4_000 : 10_000,
            random,
          });
          const stop = pipeline.runFetcherLoop();
          seeking = (async () => {
            for (let seek = 0; seek < 10; seek += 1) {
              await pause(300 + random() * 500);
              try {
                const state = await pipeline.store.getState(pipeline.name);
                if (state) await pipeline.seek(state.position, `chaos seek ${seek}`);
                seeks.done += 1;
              } catch (error) {
                if (!(error instanceof ConflictError && error.kind === 'seek-contention')) throw error;
                seeks.refused[error.kind] = (seeks.refused[error.kind] ?? 0) + 1;
              }
            }
          })();
          return stop;
        },
        committed: async (pipeline) => {
          await producers?.done;
          await seeking;
          return pipeline.committedIds();
        },
        notes: () => ({ seeks, ...producers?.counts }),
      },
    );
  },
};

/**
 * A FIFO pipeline whose bufferSize (the setting this scenario is about) is 2 messages, so the fetcher
 * pauses for room again and again, with failing events among them: effects of one partition key must
 * land in commit order, and the queue must reach bufferSize.
 */
export const fifoBackpressure: Scenario = {
  name: 'fifo-backpressure',
  description: 'FIFO with bufferSize 2 (the setting under test) reached, flaky and non-retryable events',
  quick: true,
  run: (context) => {
    let maxDepth = 0;
    let sampling = true;
    let sampler: Promise<void> = Promise.resolve();
    return runPipelineScenario(
      context,
      {
        prefix: 'fifo-pressure',
        history: context.quick ? 400 : 1_500,
        partitionKeys: 8,
        pipeline: { fifo: true, bufferSize: 2 },
        kindOf: (_n, random) => {
          const draw = random();
          if (draw < 0.02) return EVENT_KINDS.nonRetryable;
          if (draw < 0.07) return EVENT_KINDS.flaky;
          return undefined;
        },
      },
      {
        start: async (pipeline) => {
          const { sqs } = awsClients(context.endpoints);
          sampler = (async () => {
            while (sampling) {
              maxDepth = Math.max(maxDepth, await queueDepth(sqs, pipeline.queue.queueUrl));
              await pause(50);
            }
          })();
          const stop = pipeline.runFetcherLoop();
          return async () => {
            await stop();
            sampling = false;
            await sampler;
            if (maxDepth < 2) throw new Error(`the queue never reached bufferSize 2 (deepest: ${maxDepth})`);
          };
        },
        notes: () => ({ maxQueueDepth: maxDepth }),
      },
    );
  },
};

/**
 * FIFO batches as AWS makes them: a receive returns several messages of one group (injected: the
 * emulator returns one per group), so the messages behind a failed one come back with it untried and
 * spend receive counts. Few partition keys, so groups queue several messages each; flaky and
 * non-retryable events among them. Order per key, exactly once and true attempts must hold.
 */
export const fifoGroupBatches: Scenario = {
  name: 'fifo-group-batches',
  description:
    'FIFO receives with several messages of one group (injected, as AWS returns them), flaky and non-retryable events on 3 keys',
  quick: true,
  run: async (context) => {
    const emulator = await startFifoBatchingSqs();
    const before = groupBatchReceives();
    try {
      return await runPipelineScenario(
        { ...context, endpoints: { ...context.endpoints, sqs: emulator.endpoint } },
        {
          prefix: 'fifo-groups',
          history: context.quick ? 600 : 1_500,
          partitionKeys: 3,
          pipeline: { fifo: true },
          kindOf: (_n, random) => {
            const draw = random();
            if (draw < 0.01) return EVENT_KINDS.nonRetryable;
            if (draw < 0.04) return EVENT_KINDS.flaky;
            return undefined;
          },
        },
        {
          start: async (pipeline) => {
            const stop = pipeline.runFetcherLoop();
            return async () => {
              await stop();
              if (groupBatchReceives() === before)
                throw new Error(
                  'no receive returned several messages of one group: the injection did not happen',
                );
            };
          },
          notes: () => ({ receivesWithGroupBatches: groupBatchReceives() - before }),
        },
      );
    } finally {
      await emulator.stop();
    }
  },
};
