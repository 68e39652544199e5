import type { StandardSchema } from '../lib';

/** What a scenario's events carry: their number, and how the handler treats them. */
export interface ChaosData {
  readonly n: number;
  readonly kind?: EventKind;
}

/** One event of a scenario's source stream, as its producers commit it. */
export interface ChaosInput {
  stream: string;
  type: string;
  data: ChaosData;
  partitionKey?: string;
}

/** How the scenario handler treats an event. */
export const EVENT_KINDS = {
  /** Always throws: retried, then given to the failed handler. */
  poison: 'poison',
  /** Throws `NonRetryableError`: to the failed handler at once. */
  nonRetryable: 'non-retryable',
  /** Fails its schema: to the failed handler at once, the handler never runs. */
  invalid: 'invalid',
  /** Throws on its first attempt only. */
  flaky: 'flaky',
  /** Runs past the function timeout on its first attempt. */
  hang: 'hang',
} as const;
export type EventKind = (typeof EVENT_KINDS)[keyof typeof EVENT_KINDS];

/** The worker's schemas: an `invalid` event fails its schema, so the handler never runs for it. */
export const CHAOS_SCHEMAS: Readonly<Record<string, StandardSchema>> = {
  order: {
    '~standard': {
      validate: (value: unknown) =>
        (value as ChaosData | undefined)?.kind === EVENT_KINDS.invalid
          ? { issues: [{ message: 'amount must be positive', path: ['amount'] }] }
          : { value },
    },
  },
};
