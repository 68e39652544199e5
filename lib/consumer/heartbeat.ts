import { type CallContext, changeVisibility } from '../sqs/batch-calls';
import type { Counters, HeldMessage } from './in-flight';
import type { ConsumerLogger } from './types';

/** What a heartbeat renews, how often, and where it reports. */
export interface HeartbeatOptions {
  readonly context: CallContext;
  /** The messages held now; those being settled are left alone. */
  readonly messages: ReadonlyMap<string, HeldMessage>;
  /** Where refused renewals are counted (`heartbeatFailures`). */
  readonly counters: Counters;
  readonly intervalSeconds: number;
  /** What each beat renews the visibility to. */
  readonly visibilityTimeoutSeconds: number;
  readonly logger: ConsumerLogger;
}

/**
 * Renews the visibility of held messages every `intervalSeconds` while any are held, so that long work
 * is not delivered to another consumer. One beat runs at a time; the timer does not keep the process
 * alive.
 */
export class Heartbeat {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private run: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: HeartbeatOptions) {}

  /** The beat under way, if any: wait for it before a visibility change it could land after and undo. */
  get current(): Promise<void> | undefined {
    return this.run;
  }

  /** Sets the timer for the next beat, unless one is set, the heartbeat is stopped, or nothing is held. */
  schedule(): void {
    if (this.timer !== undefined || this.stopped || this.options.messages.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run = this.beat().finally(() => {
        this.run = undefined;
        this.schedule();
      });
    }, this.options.intervalSeconds * 1000);
    this.timer.unref?.();
  }

  /** Beats no more: clears the timer and waits for a beat under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.run;
  }

  /** Renews the visibility of every held message that is not being settled. Never rejects. */
  private async beat(): Promise<void> {
    const { context, counters, logger } = this.options;
    const due = [...this.options.messages.values()].filter((held) => !held.settling);
    if (due.length === 0) return;
    try {
      const failures = await changeVisibility(
        context,
        due.map((held) => ({ key: held.messageId, receiptHandle: held.receiptHandle })),
        this.options.visibilityTimeoutSeconds,
      );
      for (const failure of failures) {
        counters.heartbeatFailures += 1;
        logger.warn('heartbeat could not renew a message; it may be delivered again', {
          queueUrl: context.queueUrl,
          messageId: failure.key,
          code: failure.code,
          reason: failure.message,
        });
      }
    } catch (error) {
      counters.heartbeatFailures += due.length;
      logger.error('heartbeat failed', { queueUrl: context.queueUrl, error });
    }
  }
}
