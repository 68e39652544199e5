import { describe, ValidationError } from '../errors';
import type { PipelineStore } from '../state/pipeline-store';
import { BACKFILL_EVENTS } from './constants';
import { type RegisterBackfillOptions, registerBackfill } from './register';
import { parseBackfillRequest } from './request';
import type { RegisteredBackfill } from './types';

/** The fields of an EventBridge event the backfill function reads. */
export interface BackfillRequestedEvent {
  readonly 'detail-type': string;
  readonly source: string;
  readonly detail: unknown;
}

/** What {@link handleBackfillRequested} works with. */
export interface BackfillHandlerDependencies extends RegisterBackfillOptions {
  readonly store: PipelineStore;
}

/**
 * The backfill function: checks a "Backfill Requested" event and registers the backfill it asks for.
 * The scheduled fetcher then works it; see {@link registerBackfill}.
 *
 * @throws `ValidationError` for an event of another source or detail type,
 * `InvalidDefinitionError` with definition `backfill request` for a malformed detail, `MissingResourceError` with resource `pipeline` for an unknown pipeline.
 *
 * @example
 * ```ts
 * const store = new PipelineStore({ tableName: process.env.SLUICE_STATE_TABLE! });
 * export const handler = (event: BackfillRequestedEvent) => handleBackfillRequested(event, { store });
 * ```
 */
export async function handleBackfillRequested(
  event: BackfillRequestedEvent,
  dependencies: BackfillHandlerDependencies,
): Promise<RegisteredBackfill> {
  if (event?.source !== BACKFILL_EVENTS.source || event?.['detail-type'] !== BACKFILL_EVENTS.requested) {
    throw new ValidationError(
      `expected an event of source '${BACKFILL_EVENTS.source}' and detail-type '${BACKFILL_EVENTS.requested}' (given source ${describe(event?.source)}, detail-type ${describe(event?.['detail-type'])})`,
      event,
    );
  }
  const request = parseBackfillRequest(event.detail);
  const { store, ...options } = dependencies;
  return registerBackfill(store, request, options);
}
