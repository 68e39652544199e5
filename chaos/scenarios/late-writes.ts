import { CommitOutcomeUnknownError } from '../../lib';
import { seededRandom } from '../../test/support/fixtures';
import { delayRequests } from '../../test/support/inject';
import { awsClients } from '../environment';
import { pause } from '../pause';
import { runPipelineScenario, type Scenario } from '../scenario';

const WRITES = ['PutItemCommand', 'TransactWriteItemsCommand'];

/**
 * Four writers commit live while the fetcher tails the log: two with clocks 300 ms off, three with
 * slow transactions. A commit that overruns its deadline is abandoned; the events of the log at the
 * end (whatever landed) must all be delivered.
 */
export const lateWrites: Scenario = {
  name: 'late-writes',
  description: 'writers with clock skew and slow transactions against a live tailing fetcher',
  quick: true,
  run: (context) => {
    const random = seededRandom(context.seed);
    let abandoned = 0;
    let commits = 0;
    let writing: Promise<void> = Promise.resolve();
    const durationMs = context.quick ? 4_000 : 15_000;
    return runPipelineScenario(
      context,
      { prefix: 'late-writes', pipeline: { start: 'latest' } },
      {
        start: async (pipeline) => {
          const stopFetchers = pipeline.runFetcherLoop(() => pipeline.fetcher(), 3_000);
          await pause(500);
          const writers = [
            { delayMs: () => random() * 500, skewMs: 0 },
            { delayMs: () => random() * 500, skewMs: -300 },
            // Now and then a commit stalls past its deadline: abandoned, it must never land late.
            { delayMs: () => (random() < 0.05 ? 1_300 : random() * 300), skewMs: 300 },
            { skewMs: 0 },
          ].map((writer) => {
            const { dynamodb } = awsClients(context.endpoints);
            if (writer.delayMs) delayRequests(dynamodb, WRITES, writer.delayMs);
            return pipeline.writerLog({ client: dynamodb, clock: () => Date.now() + writer.skewMs });
          });
          const until = Date.now() + durationMs;
          let n = 0;
          writing = Promise.all(
            writers.map(async (log) => {
              while (Date.now() < until) {
                try {
                  await log.commit(pipeline.input(n++));
                  commits += 1;
                } catch (error) {
                  if (!(error instanceof CommitOutcomeUnknownError)) throw error;
                  abandoned += 1;
                }
              }
            }),
          ).then(() => undefined);
          return stopFetchers;
        },
        committed: async (pipeline) => {
          await writing;
          return pipeline.committedIds();
        },
        notes: () => ({ commits, abandoned }),
      },
    );
  },
};
