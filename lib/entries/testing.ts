// `sluice/testing`: for tests of the code around Sluice, not for production. Named crash points (the
// `onStep` hooks of the worker, the fetcher and the dead-letter handler stop a run at a chosen step,
// as a Lambda timeout or a lost process would), and fault injection into an AWS SDK client (the
// throttling, 5xx and lost responses that local emulators never produce).
export { DEAD_LETTER_STEPS, type DeadLetterStep, type DeadLetterStepHook } from '../failed/types';
export { FETCHER_STEPS, type FetcherStep, type FetcherStepHook } from '../fetcher/types';
export {
  FAULT_KINDS,
  type FaultCounts,
  type FaultInjector,
  type FaultKind,
  type FaultPlacement,
  type FaultPlan,
  injectFaults,
  throttleSomeCalls,
} from '../testing/faults';
export { WORKER_STEPS, type WorkerStep, type WorkerStepHook } from '../worker/types';
