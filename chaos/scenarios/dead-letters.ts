import { DEAD_LETTER_STEPS } from '../../lib/failed/types';
import { EVENT_KINDS } from '../event-kinds';
import { runPipelineScenario, type Scenario } from '../scenario';

const deadLetterKinds = (n: number) => (n % 11 === 4 ? EVENT_KINDS.nonRetryable : undefined);

/**
 * The dead-letter consumer dies after claiming its events and before the failed handler runs, twice:
 * the claims stay held until they expire, the messages come back, and each event is handed over once.
 */
export const deadLetterCrashBeforeHandler: Scenario = {
  name: 'dead-letter-crash-before-handler',
  description: 'the dead-letter consumer crashes after claiming, before the failed handler runs',
  quick: true,
  run: (context) => {
    let crashes = 0;
    return runPipelineScenario(
      context,
      {
        prefix: 'dlq-crash',
        history: context.quick ? 200 : 1_000,
        kindOf: deadLetterKinds,
        claimDurationMs: 2_000,
        deadLetterOnStep: (step) => {
          if (step === DEAD_LETTER_STEPS.afterClaim && crashes < 2) {
            crashes += 1;
            throw new Error(`crash at ${step}`);
          }
        },
      },
      { start: async (pipeline) => pipeline.runFetcherLoop(), notes: () => ({ crashes }) },
    );
  },
};

/**
 * The dead-letter consumer dies after the failed handler returned and before its events are marked
 * handled. The handler's effect is committed with the mark (`context.commit`), so neither landed:
 * once the claim expires the next delivery hands the events over again (a re-run), and the effect
 * lands once.
 */
export const deadLetterCrashAfterHandler: Scenario = {
  name: 'dead-letter-crash-after-handler',
  description: 'the dead-letter consumer crashes after the failed handler ran, before marking it handled',
  quick: true,
  run: (context) => {
    let crashes = 0;
    return runPipelineScenario(
      context,
      {
        prefix: 'dlq-crash-after',
        history: context.quick ? 200 : 500,
        kindOf: deadLetterKinds,
        claimDurationMs: 2_000,
        deadLetterOnStep: (step) => {
          if (step === DEAD_LETTER_STEPS.afterFailedHandler && crashes < 1) {
            crashes += 1;
            throw new Error(`crash at ${step}`);
          }
        },
      },
      { start: async (pipeline) => pipeline.runFetcherLoop(), notes: () => ({ crashes }) },
    );
  },
};
