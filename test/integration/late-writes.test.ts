import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitOutcomeUnknownError, type Position, positionAtTime } from '../../lib';
import { ConflictError } from '../../lib/errors';
import { PipelineStore } from '../../lib/state/pipeline-store';
import { EventIdGenerator } from '../../lib/time/event-id';
import { isDeliveredAt } from '../../lib/time/position';
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
let stateTable: Awaited<ReturnType<typeof createStreamTable>>;
beforeAll(async () => {
  [table, stateTable] = await Promise.all([
    createStreamTable(dynamodbClient()),
    createStreamTable(dynamodbClient(), 'state'),
  ]);
});
afterAll(() => Promise.all([table.drop(), stateTable.drop()]));

function writer(options: { delayMs?: () => number; skewMs?: number; ids?: EventIdGenerator } = {}) {
  const client = dynamodbClient();
  if (options.delayMs) delayRequests(client, WRITES, options.delayMs);
  const skew = options.skewMs ?? 0;
  return eventLogFor(client, table.name, {
    settleWindowMs: SETTLE_WINDOW_MS,
    commitDeadlineMs: COMMIT_DEADLINE_MS,
    clock: () => Date.now() + skew,
    ...(options.ids ? { idGenerator: options.ids } : {}),
  });
}

describe('late writes', () => {
  it('a slow commit lands behind a fast one; a reader trusting "now" skips it, the settled reader does not', async () => {
    const stream = uniqueName('late');
    const reader = writer();
    const start = positionAtTime(Date.now() - 1);
    await reader.readAfter(stream, start, { limit: 100 }); // the stream's timing is stored
    // One id source for both writers, so that their ids follow the order they were taken in: this case
    // is about a slow commit, not about clocks.
    const ids = new EventIdGenerator();
    const slowCommit = writer({ delayMs: () => 600, ids }).commit({ stream, type: 'slow', data: {} });
    await sleep(100);
    const fastId = await writer({ ids }).commit({ stream, type: 'fast', data: {} });

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

  it('a writer whose clock runs 2 s behind commits ahead of a tailing reader, never behind it', async () => {
    const stream = uniqueName('slow-clock');
    const reader = writer();
    const first = await reader.readAfter(stream, positionAtTime(Date.now() - 60_000), { limit: 100 });

    // Its own clock would give an id 2 s old, behind the reader's settled horizon (1.5 s): skipped.
    const id = await writer({ skewMs: -2_000 }).commit({ stream, type: 'late-clock', data: {} });

    expect(isDeliveredAt(first.position, id)).toBe(false);
    const page = await waitFor('the event is read', async () => {
      const next = await reader.readAfter(stream, first.position, { limit: 100 });
      return next.events.length > 0 ? next : undefined;
    });
    expect(page.events.map((event) => event.id)).toEqual([id]);
  });

  it('a reader whose clock runs 5 s fast stays behind DynamoDB’s clock, so an event committed after its read is ahead of it', async () => {
    const stream = uniqueName('fast-reader');
    const fastReader = writer({ skewMs: 5_000 });
    const first = await fastReader.readAfter(stream, positionAtTime(Date.now() - 60_000), { limit: 100 });

    const id = await writer().commit({ stream, type: 'on-time', data: {} });

    expect(isDeliveredAt(first.position, id)).toBe(false);
    const page = await waitFor('the event is read', async () => {
      const next = await fastReader.readAfter(stream, first.position, { limit: 100 });
      return next.events.length > 0 ? next : undefined;
    });
    expect(page.events.map((event) => event.id)).toEqual([id]);
  });

  it('fails a checkpoint write that lies after DynamoDB’s clock, and takes one behind it', async () => {
    const store = new PipelineStore({ tableName: stateTable.name, client: dynamodbClient() });
    const pipeline = uniqueName('pipeline');
    await store.putPipeline({
      name: pipeline,
      stream: 'orders',
      queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/orders',
      start: 'earliest',
    });
    const lease = await store.acquireLease(pipeline, 'fetcher-fast-clock', 60_000);
    if (!lease) throw new Error('no lease');
    const write = (position: Position, expectedVersion: number) =>
      store.writeCheckpoint(lease, {
        position,
        expectedVersion,
        previous: lease.state.position,
        leaseDurationMs: 60_000,
      });

    const error = await write(positionAtTime(Date.now() + 10_000), lease.state.version).catch(
      (caught: unknown) => caught,
    );

    expect(error).toMatchObject({ constructor: ConflictError, kind: 'checkpoint-in-future' });
    expect((error as Error).message).toMatch(
      new RegExp(
        `checkpoint of pipeline '${pipeline}' at .* lies \\d+ ms after DynamoDB's clock .*this machine's clock runs fast`,
      ),
    );
    expect((await store.getState(pipeline))?.position).toEqual(lease.state.position);
    await expect(write(positionAtTime(Date.now() - 2_000), lease.state.version)).resolves.toBe(
      lease.state.version + 1,
    );
  });
});

describe('one settle window and commit deadline per stream', () => {
  it('fails a writer given a longer commit deadline than the stream has, before anything is written', async () => {
    const stream = uniqueName('timing');
    const reader = eventLogFor(dynamodbClient(), table.name); // the defaults: 1500 ms, 1000 ms
    await reader.readAfter(stream, positionAtTime(Date.now() - 60_000), { limit: 10 });
    const patient = eventLogFor(dynamodbClient(), table.name, {
      settleWindowMs: 5_000,
      commitDeadlineMs: 4_000,
    });

    const error = await patient.commit({ stream, type: 'slow', data: {} }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ constructor: ConflictError, kind: 'stream-timing' });
    expect((error as Error).message).toBe(
      `stream '${stream}' has settleWindowMs 1500 and commitDeadlineMs 1000, stored with the stream and used by all its writers and readers, but this EventLog was given settleWindowMs 5000 and commitDeadlineMs 4000; leave them out to use the stream's, or give the same`,
    );
    expect((await reader.range(stream)).events).toEqual([]);
  });

  it('a writer given no timing takes the stream’s: its commits are abandoned at the stream’s deadline', async () => {
    const stream = uniqueName('timing');
    const reader = eventLogFor(dynamodbClient(), table.name, { settleWindowMs: 600 });
    await reader.readAfter(stream, positionAtTime(Date.now() - 60_000), { limit: 10 });
    const client = dynamodbClient();
    delayRequests(client, WRITES, () => 700);
    const plain = eventLogFor(client, table.name);

    const error = await plain.commit({ stream, type: 'slow', data: {} }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(CommitOutcomeUnknownError);
    expect((error as Error).message).toMatch(/over its deadline of 400 ms/);
  });
});
