import { describe, expect, it } from 'vitest';
import { type ChaosData, EVENT_KINDS } from '../../chaos/event-kinds';
import { totalFaultCounts } from '../../chaos/fault-totals';
import { FetcherRuns } from '../../chaos/fetcher-runs';
import { readableBody } from '../../chaos/queue-contents';
import { ScenarioHandler } from '../../chaos/scenario-handler';
import { NonRetryableError, positionAfterEvent, type WorkerEvent } from '../../lib';
import type { Fetcher } from '../../lib/fetcher/fetcher';
import type { FetcherRunSummary, PipelineRunSummary } from '../../lib/fetcher/types';
import { emptyCounts } from '../../lib/fetcher/types';
import { EventIdGenerator } from '../../lib/time/event-id';
import { formatPosition } from '../../lib/time/position';

const ids = (() => {
  const generator = new EventIdGenerator();
  return Array.from({ length: 4 }, () => generator.next());
})();
const at = (index: number) => formatPosition(positionAfterEvent(ids[index] as string));

function summary(...pipelines: Partial<PipelineRunSummary>[]): FetcherRunSummary {
  return {
    durationMs: 1,
    pipelines: Object.fromEntries(
      pipelines.map((pipeline, index) => [
        `p${index}`,
        { pipeline: `p${index}`, outcome: 'finished', counts: emptyCounts(), durationMs: 1, ...pipeline },
      ]),
    ),
  };
}

function fetcherEnding(ending: () => Promise<FetcherRunSummary>): Fetcher {
  return { run: ending } as unknown as Fetcher;
}

function event(data: ChaosData, attempt = 1, id = ids[0] as string): WorkerEvent<ChaosData> {
  return { id, stream: 'orders', type: 'order', data, attempt, messageId: 'm' } as WorkerEvent<ChaosData>;
}

describe('the chaos fetcher run record', () => {
  it('counts errors, lost leases, stop reasons and events sent ahead, a locked pipeline by its outcome', async () => {
    const runs = new FetcherRuns();
    await runs.run(
      fetcherEnding(async () =>
        summary(
          { stopReason: 'lease lost', error: new Error('fenced') },
          { outcome: 'locked', stopReason: 'x' },
          { counts: { ...emptyCounts(), eventsSentAhead: 3 } },
        ),
      ),
      100,
    );
    await runs.run(
      fetcherEnding(async () => {
        throw new Error('crash');
      }),
      100,
    );
    expect(runs.counts()).toEqual({
      fetcherRuns: 2,
      fetcherErrors: 2,
      fetcherLeasesLost: 1,
      fetcherStopReasons: { 'lease lost': 1, locked: 1, none: 1, crashed: 1 },
      eventsSentAhead: 3,
    });
  });

  it('reports an event expired only inside a reported range, its start excluded', async () => {
    const runs = new FetcherRuns();
    await runs.run(
      fetcherEnding(async () => summary({ expired: { from: at(0), to: at(2) } })),
      100,
    );
    expect(ids.map((id) => runs.reportedExpired(id))).toEqual([false, true, true, false]);
  });
});

describe('the chaos fault totals', () => {
  it('adds the counts of every injector, by kind and by operation', () => {
    const one = {
      requests: 10,
      injected: 3,
      byKind: { throttle: 1, 'server-error': 1, timeout: 1 },
      byOperation: { PutItem: 2, SendMessage: 1 },
    };
    const two = {
      requests: 5,
      injected: 1,
      byKind: { throttle: 0, 'server-error': 0, timeout: 1 },
      byOperation: { PutItem: 1 },
    };
    expect(totalFaultCounts([one, two])).toEqual({
      requests: 15,
      injected: 4,
      byKind: { throttle: 1, 'server-error': 1, timeout: 2 },
      byOperation: { PutItem: 3, SendMessage: 1 },
    });
    expect(totalFaultCounts([])).toEqual({
      requests: 0,
      injected: 0,
      byKind: { throttle: 0, 'server-error': 0, timeout: 0 },
      byOperation: {},
    });
  });
});

describe('the chaos scenario handler', () => {
  it('returns one effect, or the effect and its parts, and counts the success', async () => {
    const single = new ScenarioHandler({ effectsStream: 'fx', faulty: false });
    expect(await single.handle(event({ n: 1 }), 5)).toEqual({
      stream: 'fx',
      type: 'effect',
      data: { source: ids[0] },
    });
    const triple = new ScenarioHandler({ effectsStream: 'fx', outputsPerEvent: 3, faulty: false });
    expect(await triple.handle(event({ n: 1 }), 5)).toEqual([
      { stream: 'fx', type: 'effect', data: { source: ids[0] } },
      { stream: 'fx', type: 'effect', data: { source: ids[0], part: 1 } },
      { stream: 'fx', type: 'effect', data: { source: ids[0], part: 2 } },
    ]);
    expect(single.successes.get(ids[0] as string)).toBe(1);
  });

  it('fails poison events until fixed, non-retryable ones for good, flaky ones on their first attempt', async () => {
    const handler = new ScenarioHandler({ effectsStream: 'fx', faulty: false });
    await expect(handler.handle(event({ n: 1, kind: EVENT_KINDS.poison }, 2), 5)).rejects.toThrow(
      'order 1 is poison (attempt 2)',
    );
    await expect(handler.handle(event({ n: 2, kind: EVENT_KINDS.nonRetryable }), 5)).rejects.toBeInstanceOf(
      NonRetryableError,
    );
    await expect(handler.handle(event({ n: 3, kind: EVENT_KINDS.flaky }, 1), 5)).rejects.toThrow('timed out');
    await handler.handle(event({ n: 3, kind: EVENT_KINDS.flaky }, 2), 5);
    handler.fix();
    await handler.handle(event({ n: 1, kind: EVENT_KINDS.poison }, 3), 5);
    expect(handler.failures.get(ids[0] as string)).toEqual({
      settled: 0,
      count: 3,
      lastError: 'order 3: the payment service timed out',
    });
    expect(handler.successes.get(ids[0] as string)).toBe(2);
  });

  it('settles the failed runs of an invocation once it returns, but not under faults', async () => {
    for (const faulty of [false, true]) {
      const handler = new ScenarioHandler({ effectsStream: 'fx', faulty });
      await handler.invocation(async () => {
        await handler.handle(event({ n: 1, kind: EVENT_KINDS.poison }), 5).catch(() => undefined);
        return 'done';
      });
      expect(handler.failures.get(ids[0] as string)).toEqual({
        settled: faulty ? 0 : 1,
        count: 1,
        lastError: 'order 1 is poison (attempt 1)',
        ...(faulty ? {} : { lastSettledError: 'order 1 is poison (attempt 1)' }),
      });
    }
  });
});

describe('the readable body of a queued message', () => {
  it('gives a body that is no envelope as it is', () => {
    expect(readableBody('not an envelope')).toBe('not an envelope');
  });
});
