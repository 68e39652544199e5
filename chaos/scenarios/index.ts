import type { Scenario } from '../scenario';
import { awsFaults, awsFaultsPerCall } from './aws-faults';
import { deadLetterCrashAfterHandler, deadLetterCrashBeforeHandler } from './dead-letters';
import { fetcherCrashes, fetcherRace, leaseExpiry } from './fetcher';
import { lateWrites } from './late-writes';
import { handlerTimeouts, poisonEvents, workerCrashes } from './worker';

/** Every scenario, in the order a run takes them. */
export const SCENARIOS: readonly Scenario[] = [
  fetcherCrashes,
  workerCrashes,
  fetcherRace,
  leaseExpiry,
  awsFaults,
  awsFaultsPerCall,
  lateWrites,
  poisonEvents,
  handlerTimeouts,
  deadLetterCrashBeforeHandler,
  deadLetterCrashAfterHandler,
];
