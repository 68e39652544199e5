import type { AddressInfo } from 'node:net';

/**
 * What AWS does and the SQS emulator does not: a receive on a FIFO queue returns several messages of
 * one message group, in order (the group stays locked while any of them is in flight). fauxqs takes
 * one message per group per receive; this patches its queue class, in this process only, to take
 * more from the same group (and to put messages that come back in their send order), and starts an
 * emulator in this process that uses it. Lambda's FIFO
 * batches then hold several messages of a group, as on AWS: the ones behind a failed message come
 * back with it, untried, and spend receive counts.
 */
interface FauxqsQueue {
  fifoLockedGroups: Map<string, number>;
  fifoMessages: Map<string, { sequenceNumber?: string }[]>;
  isFifo(): boolean;
  dequeueFifo(maxCount: number, visibilityTimeoutOverride?: number, dlqResolver?: unknown): unknown[];
  changeVisibility(receiptHandle: string, timeoutSeconds: number): void;
  processTimers(): void;
}

/**
 * Puts each group's waiting messages back in send order. fauxqs puts a message whose visibility ends
 * at the front of its group, which keeps order only while one message of a group is in flight; with
 * several, two coming back in one tick would swap.
 */
function restoreGroupOrder(queue: FauxqsQueue): void {
  if (!queue.isFifo()) return;
  for (const messages of queue.fifoMessages.values())
    messages.sort((a, b) => ((a.sequenceNumber ?? '') < (b.sequenceNumber ?? '') ? -1 : 1));
}

let patched: Promise<void> | undefined;

/** Receives, since the patch, that returned more than one message of some group. */
let receivesWithGroupBatches = 0;

/**
 * How many receives so far returned more than one message of one group: a scenario checks that the
 * behaviour it injects happened.
 */
export function groupBatchReceives(): number {
  return receivesWithGroupBatches;
}

async function patchFifoReceive(): Promise<void> {
  // fauxqs does not export its queue class; it is loaded by file, the same module its app uses.
  const appUrl = import.meta.resolve('fauxqs');
  const { SqsQueue } = (await import(new URL('./sqs/sqsStore.js', appUrl).href)) as {
    SqsQueue: { prototype: FauxqsQueue };
  };
  const takeOnePerGroup = SqsQueue.prototype.dequeueFifo;
  SqsQueue.prototype.dequeueFifo = function (
    this: FauxqsQueue,
    maxCount,
    visibilityTimeoutOverride,
    dlqResolver,
  ) {
    const count = Math.min(maxCount, 10);
    const lockedBefore = new Set(this.fifoLockedGroups.keys());
    const lockedNow = new Map<string, number>();
    const taken: unknown[] = [];
    while (taken.length < count) {
      const round = takeOnePerGroup.call(this, count - taken.length, visibilityTimeoutOverride, dlqResolver);
      if (round.length === 0) break;
      taken.push(...round);
      // Unlock, for the rest of this receive only, the groups this receive took from.
      for (const [group, inFlight] of this.fifoLockedGroups)
        if (!lockedBefore.has(group)) {
          lockedNow.set(group, (lockedNow.get(group) ?? 0) + inFlight);
          this.fifoLockedGroups.delete(group);
        }
    }
    for (const [group, inFlight] of lockedNow) this.fifoLockedGroups.set(group, inFlight);
    if ([...lockedNow.values()].some((inFlight) => inFlight > 1)) receivesWithGroupBatches += 1;
    return taken;
  };
  const changeVisibility = SqsQueue.prototype.changeVisibility;
  SqsQueue.prototype.changeVisibility = function (this: FauxqsQueue, receiptHandle, timeoutSeconds) {
    changeVisibility.call(this, receiptHandle, timeoutSeconds);
    restoreGroupOrder(this);
  };
  const processTimers = SqsQueue.prototype.processTimers;
  SqsQueue.prototype.processTimers = function (this: FauxqsQueue) {
    processTimers.call(this);
    restoreGroupOrder(this);
  };
}

/**
 * Starts the SQS emulator in this process with FIFO receives that return several messages of a
 * group, as AWS's do. Resolves to its endpoint and a stop.
 *
 * @example
 * ```ts
 * const emulator = await startFifoBatchingSqs();
 * const endpoints = { ...context.endpoints, sqs: emulator.endpoint };
 * ```
 */
export async function startFifoBatchingSqs(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  patched ??= patchFifoReceive();
  await patched;
  const { buildApp } = await import('fauxqs');
  const app = buildApp({ logger: false, host: '127.0.0.1' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => app.close() };
}
