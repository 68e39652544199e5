import { WORKER_STEPS, type WorkerStep } from '../../lib/worker/types';
import { EVENT_KINDS } from '../event-kinds';
import { runPipelineScenario, type Scenario } from '../scenario';

/**
 * The worker dies at each of its named crash points in turn (the first batch to reach each): the
 * event source fails the whole batch, and its messages come back after their visibility timeout.
 * Some events are dead-lettered so that the dead-letter steps are reached.
 */
export const workerCrashes: Scenario = {
  name: 'worker-crashes',
  description: 'the worker crashes at every named point in turn; batches come back',
  quick: true,
  run: (context) => {
    const steps = Object.values(WORKER_STEPS);
    const crashed: WorkerStep[] = [];
    return runPipelineScenario(
      context,
      {
        prefix: 'worker-crash',
        history: context.quick ? 300 : 1_500,
        kindOf: (n) => (n % 29 === 3 ? EVENT_KINDS.nonRetryable : undefined),
        workerOnStep: (step) => {
          if (step === steps[crashed.length]) {
            crashed.push(step);
            throw new Error(`crash at ${step}`);
          }
        },
      },
      {
        start: async (pipeline) => pipeline.runFetcherLoop(),
        notes: () => ({ crashedAt: crashed }),
      },
    );
  },
};

/**
 * Poison events (always fail), events that throw `NonRetryableError`, events that fail their schema,
 * and flaky events (fail once): each bad one reaches the failed handler once, the rest are handled.
 */
export const poisonEvents: Scenario = {
  name: 'poison-events',
  description: 'poison, non-retryable, schema-failing and flaky events among good ones',
  quick: true,
  run: (context) =>
    runPipelineScenario(
      context,
      {
        prefix: 'poison',
        history: context.quick ? 300 : 1_500,
        kindOf: (_n, random) => {
          const draw = random();
          if (draw < 0.03) return EVENT_KINDS.poison;
          if (draw < 0.05) return EVENT_KINDS.nonRetryable;
          if (draw < 0.07) return EVENT_KINDS.invalid;
          if (draw < 0.12) return EVENT_KINDS.flaky;
          return undefined;
        },
      },
      { start: async (pipeline) => pipeline.runFetcherLoop() },
    ),
};

/**
 * Handlers that run past the function timeout on their first attempt: the event source times the
 * invocation out and fails its batch, while the handler (in this process) keeps running and may
 * finish after the batch came back to another invocation: two runs of one message at once.
 */
export const handlerTimeouts: Scenario = {
  name: 'handler-timeouts',
  description:
    'handlers run past the function timeout; their batches come back while they still run (the settings under test: a 2 s timeout, a 3 s visibility timeout)',
  quick: true,
  run: (context) =>
    runPipelineScenario(
      context,
      {
        prefix: 'timeouts',
        history: context.quick ? 200 : 1_000,
        workerTimeoutSeconds: 2,
        visibilityTimeoutSeconds: 3,
        kindOf: (_n, random) => (random() < 0.03 ? EVENT_KINDS.hang : undefined),
      },
      { start: async (pipeline) => pipeline.runFetcherLoop() },
    ),
};
