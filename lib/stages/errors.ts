import { SluiceError } from '../errors';

/**
 * A commit refused by `guardedCommit` because the slowest consumer of the stream is too far behind:
 * the producer should slow down and try again later.
 */
export class LaggingConsumerError extends SluiceError {
  declare readonly code: 'consumer-lagging';
  readonly stream: string;
  /** The slowest consumer pipeline of the stream. */
  readonly pipeline: string;
  /** How far behind the newest event of the stream it is, in milliseconds. */
  readonly lagMs: number;
  readonly maxLagMs: number;

  constructor(details: { stream: string; pipeline: string; lagMs: number; maxLagMs: number }) {
    super(
      `stream ${details.stream}: consumer ${details.pipeline} is ${details.lagMs} ms behind, more than the ${details.maxLagMs} ms allowed; commit refused`,
      { code: 'consumer-lagging' },
    );
    this.name = 'LaggingConsumerError';
    this.stream = details.stream;
    this.pipeline = details.pipeline;
    this.lagMs = details.lagMs;
    this.maxLagMs = details.maxLagMs;
  }
}
