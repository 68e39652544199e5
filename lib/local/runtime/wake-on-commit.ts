import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, type _Record as StreamRecord } from '@aws-sdk/client-dynamodb-streams';
import type { EventLog } from '../../event-log/event-log';
import { eventIdToEpochMs } from '../../time/event-id';
import { storedSettleWindows } from '../../wake/settle-windows';
import { type WakeRoute, WOKEN_RUN_UNTIL_IDLE_MS } from '../../wake/wake-routes';
import { Waker } from '../../wake/waker';
import type { LocalFetcherRuns } from './fetcher-runs';
import { TableStreamSource, type TableStreamSourceStats } from './table-stream-source';

/** After the newest event of a wake-up settles, the moments a running fetch is told to read again. */
const READ_AGAIN_AFTER_SETTLE_MS = [20, 250] as const;

/** Counts of a local pipeline's wake-ups on commit. */
export interface LocalWakeStats {
  /** Times a commit woke the fetcher (started a run, or queued one behind a running run). */
  readonly wakeups: number;
  /** Fetcher runs that a wake-up started. */
  readonly wokenRuns: number;
  /** Batches of stream records that woke nothing, the fetcher having been woken a moment before. */
  readonly skipped: number;
  /** Times the waker was handed records: one per batching window when there is one. */
  readonly wakerCalls: number;
  /**
   * Commits the stream showed stored after their settle window, as the deployed waker counts them
   * (`LateCommits`). DynamoDB Local stamps stream records to the minute, so only commits stored a
   * minute or more late are certain, and counted.
   */
  readonly lateCommits: number;
  readonly stream: TableStreamSourceStats;
}

/** Settings of {@link WakeOnCommit}. */
export interface WakeOnCommitOptions {
  readonly runs: LocalFetcherRuns;
  readonly eventLog: EventLog;
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly pipeline: { readonly name: string; readonly stream: string };
  /**
   * How long records are gathered before the waker is handed them, as the deployed waker's event
   * source does with `EventLog`'s `wakeBatchingWindow`: the first record opens the window.
   * @default 0 (each read that brings records goes to the waker at once)
   */
  readonly batchingWindowMs?: number;
  /** Where the event log table's stream is read; the SDK's default without one. */
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  readonly onError: (error: unknown, details: { readonly function: string }) => void;
}

/**
 * The wake-up path of a local pipeline, as deployed with `latency: 'balanced'`: the event log table's
 * stream, read shard by shard, is handed to the deployed waker's logic, whose wake-ups start a fetcher
 * run (or, while one runs, queue the next and cut its wait short, then again once the newest event has
 * settled).
 *
 * @example
 * ```ts
 * const wake = new WakeOnCommit({ runs, eventLog, dynamodb, tableName: 'sluice-events', pipeline, onError });
 * await wake.start();
 * await wake.stopReading();
 * ```
 */
export class WakeOnCommit {
  private readonly options: WakeOnCommitOptions;
  private readonly streams: DynamoDBStreamsClient;
  private readonly tableStream: TableStreamSource;
  private readonly counts = { wakeups: 0, wokenRuns: 0, skipped: 0, wakerCalls: 0, lateCommits: 0 };
  private readonly settleTimers = new Set<NodeJS.Timeout>();
  private readonly waker: Waker;
  /** Records gathered in the open batching window, and the timer that closes it. */
  private gathering: { readonly records: StreamRecord[]; readonly timer: NodeJS.Timeout } | undefined;
  private pendingWake: { readThrough?: string } | undefined;
  private draining: Promise<void> | undefined;

  constructor(options: WakeOnCommitOptions) {
    this.options = options;
    this.waker = new Waker({
      routes: [
        {
          stream: options.pipeline.stream,
          pipeline: options.pipeline.name,
          target: 'sluice-fetcher',
          untilIdleMs: WOKEN_RUN_UNTIL_IDLE_MS,
        },
      ],
      wake: (route, readThrough) => this.wake(route, readThrough),
      settleWindowMsOf: storedSettleWindows(options.dynamodb, options.tableName),
    });
    this.streams = new DynamoDBStreamsClient({
      ...(options.region ? { region: options.region } : {}),
      ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    });
    this.tableStream = new TableStreamSource({
      dynamodb: options.dynamodb,
      streams: this.streams,
      tableName: options.tableName,
      handler: (records) => this.onRecords(records),
      onError: (error) => options.onError(error, { function: 'table stream reader' }),
    });
  }

  /** Starts reading the stream at its newest records. */
  start(): Promise<void> {
    return this.tableStream.start();
  }

  /** Stops reading the stream and closes its client; records gathered in an open window are dropped. */
  async stopReading(): Promise<void> {
    await this.tableStream.stop();
    this.streams.destroy();
    if (this.gathering) clearTimeout(this.gathering.timer);
    this.gathering = undefined;
  }

  /** Drops the pending reminders to read again once an event settles. */
  clearTimers(): void {
    for (const timer of this.settleTimers) clearTimeout(timer);
  }

  /** Resolves once the runs that wake-ups queued have ended (none start once the fetcher is stopping). */
  async drained(): Promise<void> {
    await this.draining;
  }

  stats(): LocalWakeStats {
    return { ...this.counts, stream: this.tableStream.stats() };
  }

  private async onRecords(records: readonly StreamRecord[]): Promise<void> {
    const windowMs = this.options.batchingWindowMs ?? 0;
    if (windowMs === 0) return this.handToWaker(records);
    if (this.gathering) {
      this.gathering.records.push(...records);
      return;
    }
    const timer = setTimeout(() => {
      const gathered = this.gathering?.records ?? [];
      this.gathering = undefined;
      this.handToWaker(gathered).catch((error: unknown) =>
        this.options.onError(error, { function: 'waker' }),
      );
    }, windowMs);
    this.gathering = { records: [...records], timer };
  }

  private async handToWaker(records: readonly StreamRecord[]): Promise<void> {
    this.counts.wakerCalls += 1;
    const outcome = await this.waker.onRecords(records);
    this.counts.skipped += outcome.skipped.length;
    this.counts.lateCommits += outcome.late.length;
    for (const { error } of outcome.failed) this.options.onError(error, { function: 'waker' });
  }

  private async wake(_route: WakeRoute, readThrough?: string): Promise<void> {
    const { runs, eventLog } = this.options;
    this.counts.wakeups += 1;
    const through = [this.pendingWake?.readThrough, readThrough]
      .filter((id) => id !== undefined)
      .sort()
      .at(-1);
    this.pendingWake = through === undefined ? {} : { readThrough: through };
    // A running run reads again now, and again once the newest event has settled, instead of at its next poll.
    runs.cutSleepsShort();
    if (readThrough !== undefined) {
      const settlesInMs = eventIdToEpochMs(readThrough) + eventLog.settleWindowMs - Date.now();
      for (const afterMs of READ_AGAIN_AFTER_SETTLE_MS) {
        const timer = setTimeout(
          () => {
            this.settleTimers.delete(timer);
            runs.cutSleepsShort();
          },
          Math.max(0, settlesInMs + afterMs),
        );
        this.settleTimers.add(timer);
      }
    }
    this.draining ??= this.drainWakes();
  }

  private async drainWakes(): Promise<void> {
    const { runs } = this.options;
    while (this.pendingWake && !runs.isStopping) {
      const { readThrough } = this.pendingWake;
      this.pendingWake = undefined;
      this.counts.wokenRuns += 1;
      try {
        await runs.run(() => Date.now() + runs.timeoutMs, readThrough);
      } catch (error) {
        this.options.onError(error, { function: 'fetcher' });
      }
    }
    this.draining = undefined;
  }
}
