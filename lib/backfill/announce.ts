import type { FetcherRunSummary } from '../fetcher/types';
import { parseBackfillPipelineName } from '../pipeline/backfill-names';
import type { PipelineStore } from '../state/pipeline-store';
import { type EmitBackfillCompletedOptions, emitBackfillCompleted } from './completion';
import type { BackfillCompletedDetail } from './types';

/**
 * After a fetcher run, emits "Backfill Completed" once for each backfill that the run completed
 * (see {@link emitBackfillCompleted}). One backfill's failure to emit does not stop the others; the
 * failures are returned, so that the caller can log them without failing the run: the marker is
 * taken back on failure, and the next run that finds the backfill completed tries again.
 *
 * @example
 * ```ts
 * const summary = await fetcher.run({ deadline });
 * const { emitted, failures } = await announceCompletedBackfills(summary, store, { client, putEvents });
 * ```
 */
export async function announceCompletedBackfills(
  summary: FetcherRunSummary,
  store: PipelineStore,
  options: EmitBackfillCompletedOptions,
): Promise<{ emitted: BackfillCompletedDetail[]; failures: { backfillPipeline: string; error: Error }[] }> {
  const emitted: BackfillCompletedDetail[] = [];
  const failures: { backfillPipeline: string; error: Error }[] = [];
  for (const [name, run] of Object.entries(summary.pipelines)) {
    if (!parseBackfillPipelineName(name)) continue;
    if (run.outcome !== 'completed' && run.outcome !== 'already-completed') continue;
    try {
      const detail = await emitBackfillCompleted(store, name, options);
      if (detail) emitted.push(detail);
    } catch (error) {
      failures.push({ backfillPipeline: name, error: error as Error });
    }
  }
  return { emitted, failures };
}
