import type { Scenario } from '../scenario';
import { awsFaults, awsFaultsPerCall } from './aws-faults';
import { deadLetterCrashAfterHandler, deadLetterCrashBeforeHandler } from './dead-letters';
import { fetcherCrashes, fetcherRace, leaseExpiry, wokenFetchers } from './fetcher';
import { lateWrites } from './late-writes';
import {
  fifoBackpressure,
  fifoGroupBatches,
  outputsOver100,
  redriveDeployed,
  seekWhileFetching,
  ttlExpiry,
  typeFilterBacklog,
} from './operations';
import { crashWhileProducing, producerFaults, writerSkew } from './producers';
import { handlerTimeouts, poisonEvents, workerCrashes } from './worker';

/** Every scenario, in the order a run takes them. */
export const SCENARIOS: readonly Scenario[] = [
  fetcherCrashes,
  crashWhileProducing,
  workerCrashes,
  fetcherRace,
  leaseExpiry,
  wokenFetchers,
  awsFaults,
  awsFaultsPerCall,
  producerFaults,
  lateWrites,
  writerSkew,
  poisonEvents,
  handlerTimeouts,
  deadLetterCrashBeforeHandler,
  deadLetterCrashAfterHandler,
  fifoBackpressure,
  fifoGroupBatches,
  seekWhileFetching,
  redriveDeployed,
  typeFilterBacklog,
  outputsOver100,
  ttlExpiry,
];
