import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitOutcomeUnknownError, type Position, positionAtTime } from '../../lib';
import { createStreamTable, dynamodbClient, uniqueName } from '../support/aws';
import { eventLogFor, seededRandom, sleep } from '../support/fixtures';
import { delayRequests } from '../support/inject';
import { waitFor } from '../support/wait-for';

// A tailing reader must never skip an event whose id is older than one it has already read, though
// writers' clocks are skewed and their commits are slow. The guard: readers stay settleWindowMs behind
// now, and a commit that cannot finish within commitDeadlineMs is abandoned before it can land late.
const SETTLE_WINDOW_MS = 1_500;
const COMMIT_DEADLINE_MS = 1_000;
const WRITES = ['PutItemCommand', 'TransactWriteItemsCommand'];

let table: Awaited<ReturnType<typeof createStreamTable>>;
beforeAll(async () => {
  table = await createStreamTable(dynamodbClient());
});
afterAll(() => table.drop());

function writer(options: { delayMs?: () => number; skewMs?: number } = {}) {
  const client = dynamodbClient();
  if (options.delayMs) delayRequests(client, WRITES, options.delayMs);
  const skew = options.skewMs ?? 0;
  return eventLogFor(client, table.name, {
    settleWindowMs: SETTLE_WINDOW_MS,
    commitDeadlineMs: COMMIT_DEADLINE_MS,
    clock: () => Date.now() + skew,
  });
}

describe('late writes', () => {
  it('a slow commit lands behind a fast one; a reader trusting "now" skips it, the settled reader does not', async () => {
    const stream = uniqueName('late');
    const reader = writer();
    const start = positionAtTime(Date.now() - 1);
    const slowCommit = writer({ delayMs: () => 600 }).commit({ stream, type: 'slow', data: {} });
    await sleep(100);
    const fastId = await writer().commit({ stream, type: 'fast', data: {} });

    // Mid-flight: the fast event is stored, the slow one (with the older id) is not.
    const naive = await reader.range(stream, { from: new Date(Date.now() - 10_000) });
    expect(naive.events.map((event) => event.type)).toEqual(['fast']);
    const settled = await reader.readAfter(stream, start, { limit: 100 });
    expect(settled.events).toEqual([]);

    const slowId = await slowCommit;
    expect(slowId < fastId).toBe(true);
    // A naive reader would now stand after fastId, past slowId: skipped for ever.
    const caughtUp = await waitFor('both events settled', async () => {
      const page = await reader.readAfter(stream, settled.position, { limit: 100 });
      return page.events.length === 2 ? page : undefined;
    });
    expect(caughtUp.events.map((event) => event.id)).toEqual([slowId, fastId]);
  });

  it('a commit stalled past its deadline is abandoned, never lands, and says so', async () => {
    const stream = uniqueName('stalled');
    const stalled = writer({ delayMs: () => COMMIT_DEADLINE_MS + 300 });
    const error = await stalled
      .commit({ stream, type: 'stalled', data: {} })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CommitOutcomeUnknownError);
    const [id] = (error as CommitOutcomeUnknownError).eventIds;
    expect((error as CommitOutcomeUnknownError).message).toMatch(
      /abandoned after \d+ ms, over its deadline of 1000 ms/,
    );
    await sleep(500);
    expect(await writer().get(stream, id as string)).toBeUndefined();
  });

  it('concurrent writers with skewed clocks and slow commits: a tailing reader gets every event once, in order', async () => {
    const stream = uniqueName('tail');
    const random = seededRandom(2024);
    const writers = [
      writer({ delayMs: () => random() * 500 }),
      writer({ delayMs: () => random() * 500, skewMs: -300 }),
      writer({ delayMs: () => random() * 300, skewMs: 300 }),
      writer(),
    ];
    const reader = writer();
    const committed: string[] = [];
    let abandoned = 0;
    let writing = true;
    let position: Position = positionAtTime(Date.now() - 5_000);
    const seen: string[] = [];
    const tail = (async () => {
      while (writing || seen.length < committed.length) {
        const page = await reader.readAfter(stream, position, { limit: 50 });
        seen.push(...page.events.map((event) => event.id));
        position = page.position;
        if (page.caughtUp) await sleep(20);
      }
    })();
    const until = Date.now() + 2_500;
    await Promise.all(
      writers.map(async (log, index) => {
        for (let n = 0; Date.now() < until; n += 1) {
          try {
            committed.push(await log.commit({ stream, type: `writer-${index}`, data: { n } }));
          } catch (error) {
            // On a loaded machine a commit can overrun its deadline; it is then abandoned, and the
            // reader must agree with the log on whether it landed.
            if (!(error instanceof CommitOutcomeUnknownError)) throw error;
            abandoned += 1;
            const [id] = error.eventIds;
            if (await reader.get(stream, id as string)) committed.push(id as string);
          }
        }
      }),
    );
    writing = false;
    await Promise.race([
      tail,
      sleep(15_000).then(() => Promise.reject(new Error(`reader saw ${seen.length} of ${committed.length}`))),
    ]);

    expect(committed.length).toBeGreaterThan(40);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...committed].sort());
    console.log(
      `late writes: ${committed.length} commits by 4 writers, ${abandoned} abandoned past the deadline, all read once in order`,
    );
  });
});
