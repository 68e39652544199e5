import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StreamTimingValues } from '../errors';
import type { ServerClock } from '../time/server-clock';
import { loadStreamTiming, type StreamTiming } from './stream-timing';
import type { StreamSettings } from './types';

/**
 * What the log's commit path and read path share: the table, both clocks, and the streams' settings
 * and timings. One per `EventLog`, so that a stream's timing is loaded once for both paths.
 */
export interface LogContext {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** This machine's clock, in milliseconds since the epoch. */
  readonly clock: () => number;
  /** DynamoDB's clock, as its responses tell it. */
  readonly serverClock: ServerClock;
  readonly streams: LogStreams;
}

/**
 * Each stream's settings as the log was given them, and its settle window and commit deadline as
 * stored with it, loaded once per stream.
 *
 * @example
 * ```ts
 * const streams = new LogStreams(client, 'sluice-events', { orders: { writeShards: 4 } }, {}, {});
 * const { settleWindowMs } = await streams.timingOf('orders');
 * ```
 */
export class LogStreams {
  private readonly timings = new Map<string, Promise<StreamTiming>>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly streamSettings: Readonly<Record<string, StreamSettings>>,
    private readonly defaultStreamSettings: StreamSettings,
    /** The settle window and commit deadline the log was given, for every stream it uses. */
    private readonly declaredTiming: Partial<StreamTimingValues>,
  ) {}

  settingsOf(stream: string): StreamSettings {
    return this.streamSettings[stream] ?? this.defaultStreamSettings;
  }

  /**
   * The settle window and commit deadline of a stream, as stored with it (stored now, with what the
   * log was given, if the stream has none yet). Loaded once per stream.
   */
  timingOf(stream: string): Promise<StreamTiming> {
    let timing = this.timings.get(stream);
    if (!timing) {
      const settings = this.settingsOf(stream);
      const declared: Partial<StreamTimingValues> = {
        ...this.declaredTiming,
        ...(settings.settleWindowMs === undefined ? {} : { settleWindowMs: settings.settleWindowMs }),
        ...(settings.commitDeadlineMs === undefined ? {} : { commitDeadlineMs: settings.commitDeadlineMs }),
      };
      timing = loadStreamTiming(this.client, this.tableName, stream, declared);
      this.timings.set(stream, timing);
      timing.catch(() => this.timings.delete(stream));
    }
    return timing;
  }
}
