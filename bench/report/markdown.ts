import type { PipelineLatency } from '../../lib/settings/latency';
import { PRODUCERS } from '../support/history';
import { PAYLOADS } from '../support/payloads';
import type { BenchResults, StorageCostResults, SystemResult } from './results';

/** Why each target can be missed and what would close it, keyed by the start of its name. */
const CLOSING_NOTES: readonly [string, string][] = [
  [
    'sluice: billed AWS requests',
    'SQS takes about 13 of them, under its floor, since messages carry compressed segments. The rest is DynamoDB: the fetcher’s strongly consistent reads of the log (Query, about 45 units per 1,000 events: a realistic 1 KB event takes about 180 bytes once compressed in a segment of 100, and a query is billed per started 4 KB of what it returns) and the worker’s idempotency markers (one read and one write unit per message, about 10 each per 1,000 events at 100 events per message). Eventually consistent reads would halve the log’s share, but DynamoDB does not promise them current within the settle window, so Sluice keeps consistent reads.',
  ],
  [
    'sluice: $ per million',
    'The same reads dominate the dollars. Done markers no longer list their event ids (one write unit each instead of about three; measured side by side, this took sluice from $0.096 to $0.075 per million). What remains would fall with eventually consistent reads of the log, which DynamoDB does not promise to be current within the settle window, so Sluice keeps consistent reads.',
  ],
  [
    'sluice events/s ÷ naive',
    'Naive is bound by three round trips per event on the consumer side and two on the pump side.',
  ],
  [
    'sluice: live latency',
    'At the defaults a fetcher sends an event as soon as a read sees it committed (early delivery, `docs/early-delivery.md`): what remains is the table stream’s reader (four reads a second locally), the fetcher’s read and send, and the worker’s receive. An event waits for the settle window only when the record of events sent ahead is full (160 runs of ids) or the queue is at `bufferSize`.',
  ],
  [
    'sluice-1 events/s ÷ raw',
    'With one event per message every message costs the worker a marker read (one BatchGetItem per batch of ten) and a marker write (one BatchWriteItem per batch of done messages) beside raw’s send, receive and delete: about 5 calls per 10 messages against raw’s 3, two of them to DynamoDB Local, a Java process that shares this machine’s two cores with the SQS emulator and the system itself. Timed one after another on these emulators, a BatchWriteItem of ten items takes about 6.4 ms, a BatchGetItem of ten 3.7 ms and the counters’ UpdateItem 4.1 ms, against 2.7 ms for a SendMessageBatch of ten and 3.5 ms for a receive and delete of ten: sluice-1’s DynamoDB Local calls alone take about twice raw’s whole SQS work per ten events, which bounds the ratio near 0.3 to 0.45 whatever the rest costs. A CPU profile of the sluice-1 process (`--cpu-prof`) finds it idle about half the time, waiting on the emulators. Its fetcher now makes up to four SendMessageBatch calls at once on a standard queue (one after another, a run spent most of its time on them: 3,000 events took 5.7–5.8 s, and 3.1–5.2 s with four at once, in separate runs). Packing (the default) is the way to high throughput.',
  ],
  [
    'sluice events/s ÷ raw',
    'Raw only moves messages through the SQS emulator, whose speed varies from run to run (720 to 3,100 events/s for the same raw system), and the ratio moves with it. With `--quick`, sluice’s 3,000 events are three pages of 1,000 and the run lasts about 0.6 s: mostly the chain of one page’s read, send and handling rather than a steady rate. A CPU profile of the sluice process finds it idle about a third of the time, waiting on the emulators; of the rest, the SDK’s (de)serialization and socket writes lead, and Sluice’s own decoding (segments, zlib) is about 5%.',
  ],
  [
    'steady load: balanced',
    'Under steady traffic a woken run tails as a scheduled one does (a little more: no gap between runs), and the waker adds its invocation and one read of the pipeline’s lease per batch of the table’s stream: about $4.20 a month per stream shard at four batches a second ($2.07 of invocations, $1.30 of lease reads, $0.86 of compute in 128 MB). The log’s `wakeBatchingWindow` cuts it (to $1.06 at one second, the row above) against up to that long more for the first event after a quiet spell; it is not set by default. Even a free waker leaves `balanced` above `economy`: its run tails the whole month ($8.66) where `economy`’s tail 55 s of each minute ($7.93). Idle, `balanced` costs $8.6 less than `economy`, so it is the cheaper mode unless a stream is busy more than about three fifths of the time (at $5 more a month when busy).',
  ],
  [
    'fetcher peak RSS',
    'The fetcher holds one page (1,000 events) at a time; growth with the backlog would point at something kept per event. Full runs with no change on this path have measured 0.99 and 1.47 (see README.md, “Peak RSS is noisy”), most likely V8 growing its heap with the allocation rate.',
  ],
  ['worker bundle', 'The worker bundle is the example worker with zod; the AWS SDK is left to the runtime.'],
  [
    'write units per',
    'A stored segment is billed one write unit per started 1 KB of its compressed item, once (a single item needs no transaction). A single realistic event is one write unit; what is above one is the hours’ bucket-index writes and the stream’s timing item, spread over the run’s events, and falls toward zero as an hour holds more events.',
  ],
  [
    'end to end',
    'The write is most of the bill end to end (see the storage-cost table): it falls with the write units per event.',
  ],
  [
    'log read units',
    'The fetcher reads the log with strongly consistent queries, one unit per 4 KB of what is stored; compressed segments would shrink what it reads with the data.',
  ],
  [
    'SQS billed requests',
    'SQS bills per 64 KB of payload: sends and receives of messages packed to just under 64 KB of uncompressed events, about 16 events per 64 KB each way, plus deletes and polls. Compressed envelopes would carry more events per 64 KB.',
  ],
];

const PRODUCER_LABELS = {
  single: '`commit(event)`, one at a time',
  batch100: '`commit(events)`, 100 at a time',
  commitBatched: '`commitBatched(events)`',
} as const;

/**
 * The storage-cost section: the payloads' compression ratios and, for each payload and producer,
 * what the `sluice` system cost end to end.
 *
 * @example
 * ```ts
 * console.log(storageCostLines(results.storageCost).join('\n'));
 * ```
 */
export function storageCostLines(storageCost: StorageCostResults): string[] {
  const lines = [
    '## Storage cost: write + pump + handle (issue 17)',
    '',
    `For each payload and each producer, ${storageCost.events.toLocaleString('en-US')} events committed to a fresh log, then pumped and handled by the \`sluice\` system with every default; every call of the producer, the fetcher, the worker and the event source billed as AWS bills it. Each combination is a run of its own.`,
    '',
    'Compression of each payload’s event data (uncompressed ÷ compressed; node:zlib defaults, brotli at quality 11; 1,000 events):',
    '',
    '| payload | mean bytes | deflate-raw, one event | brotli, one event | deflate-raw, 100 together | brotli, 100 together |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...PAYLOADS.map((payload) => {
      const ratios = storageCost.compression[payload];
      return `| ${payload} | ${ratios.meanEventBytes} | ${ratios.deflateRawSingle}× | ${ratios.brotliSingle}× | ${ratios.deflateRawBatch100}× | ${ratios.brotliBatch100}× |`;
    }),
    '',
    '| payload | producer | write units / event | write | pump | handle | total $ / million | log read units / 1,000 | SQS requests / 1,000 | events/s |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const payload of PAYLOADS)
    for (const producer of PRODUCERS) {
      const run = storageCost.runs[payload][producer];
      const cost = run.usdPerMillionEventsEndToEnd;
      lines.push(
        `| ${payload} | ${PRODUCER_LABELS[producer]} | ${run.writeUnitsPerEvent} | ${dollars(cost.write)} | ${dollars(cost.pump)} | ${dollars(cost.handle)} | ${dollars(cost.total)} | ${run.logReadUnitsPer1000Events} | ${run.sqsRequestsPer1000Events} | ${run.eventsPerSecond.toLocaleString('en-US')} |`,
      );
    }
  lines.push(
    '',
    'Write is the producer’s commits (its reads of the stream’s settings and its bucket-index writes included); pump is the fetcher; handle is the worker and the event source mapping’s receives and deletes. Lambda requests are priced in pump and handle.',
    '',
  );
  return lines;
}

/**
 * `bench/RESULTS.md`: the figures of one run side by side, with the date, the machine, what is
 * excluded, the targets and a closing note on each one missed.
 *
 * @example
 * ```ts
 * await writeFile('bench/RESULTS.md', resultsMarkdown(results, 'results.svg'));
 * ```
 */
export function resultsMarkdown(results: BenchResults, chartFile: string): string {
  const names = Object.keys(results.systems);
  const sluice = results.systems.sluice;
  const lines: string[] = [];
  const { machine, settings } = results;
  lines.push(
    '# Sluice benchmark results',
    '',
    `Run of ${results.date} (${results.mode === 'quick' ? '`npm run bench -- --quick`' : '`npm run bench`'}) on ${machine.cpus} × ${machine.cpuModel}, ${gib(machine.memoryBytes)} GiB, Node ${machine.node} (${machine.platform}).`,
    `Every system ran in this one run, one after another, against the same DynamoDB Local and SQS emulator, on the same ${settings.events.toLocaleString('en-US')} generated events of ${settings.eventBytes} bytes spread over ${settings.hours} hourly buckets.`,
    'The figures are for comparison on this machine, as ratios; the emulators are far slower than AWS, so absolute rates say little about AWS.',
    '',
    `![events per second and dollars per million events](${chartFile})`,
    '',
    '| system | events/s | × naive | billed requests / 1,000 events | of which SQS | $ / million events | p50 latency | p99 latency | peak RSS |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  const naive = results.systems.naive;
  for (const name of names) {
    const system = results.systems[name] as SystemResult;
    lines.push(
      `| ${name} | ${system.eventsPerSecond.toLocaleString('en-US')} | ${naive ? ratio(system.eventsPerSecond / naive.eventsPerSecond) : '-'} | ${system.awsRequestsPer1000Events.total} | ${system.awsRequestsPer1000Events.sqsRequests} | ${dollars(system.usdPerMillionEvents)} | ${ms(system.latencyP50Ms)} | ${ms(system.latencyP99Ms)} | ${mib(system.peakRssBytes)} MiB |`,
    );
  }
  lines.push('', '## Side by side', '');
  if (sluice) {
    for (const name of names.filter((other) => other !== 'sluice')) {
      const other = results.systems[name] as SystemResult;
      lines.push(
        `- sluice against ${name}: ${ratio(sluice.eventsPerSecond / other.eventsPerSecond)} the events per second, ${ratio(sluice.awsRequestsPer1000Events.total / other.awsRequestsPer1000Events.total)} the billed requests, ${other.usdPerMillionEvents > 0 ? ratio(sluice.usdPerMillionEvents / other.usdPerMillionEvents) : '-'} the cost.`,
      );
    }
  }
  lines.push(
    '',
    '## Billed requests per 1,000 events, by operation',
    '',
    'SQS requests (one per 64 KB of payload), DynamoDB request units (writes per 1 KB, reads per 4 KB, halved when eventually consistent, doubled in transactions) and Lambda invocations.',
    '',
  );
  for (const name of names) {
    const billed = (results.systems[name] as SystemResult).awsRequestsPer1000Events;
    const operations = Object.entries(billed.byOperation)
      .sort(([, a], [, b]) => b - a)
      .map(([operation, count]) => `${operation} ${count}`);
    if (billed.lambdaInvocations > 0) operations.push(`Lambda.Invoke ${billed.lambdaInvocations}`);
    lines.push(`- **${name}** (${billed.total}): ${operations.join(', ')}`);
  }
  lines.push(
    '',
    '## Cost per million events',
    '',
    '| system | SQS | DynamoDB | Lambda requests | total |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const name of names) {
    const cost = (results.systems[name] as SystemResult).usdBreakdown;
    lines.push(
      `| ${name} | ${dollars(cost.sqs)} | ${dollars(cost.dynamoDb)} | ${dollars(cost.lambdaRequests)} | ${dollars(cost.total)} |`,
    );
  }
  lines.push(
    '',
    `Prices of ${settings.prices.asOf} (on demand, us-east-1): SQS $${settings.prices.sqsPerMillionRequests} per million requests, DynamoDB $${settings.prices.dynamoDbPerMillionWriteUnits} per million write units and $${settings.prices.dynamoDbPerMillionReadUnits} per million read units, Lambda $${settings.prices.lambdaPerMillionRequests} per million requests.`,
    '',
    '## Lambda bundles (minified, esbuild as CDK bundles them, AWS SDK external)',
    '',
    '| entry point | bytes |',
    '| --- | ---: |',
    ...Object.entries(results.bundles).map(
      ([name, bytes]) => `| ${name} | ${bytes.toLocaleString('en-US')} |`,
    ),
    '',
    '## Fetcher memory against backlog',
    '',
    `The fetcher alone, paging a settled backlog into a queue: peak RSS ${mib(results.fetcherMemory.smallPeakRssBytes)} MiB with ${results.fetcherMemory.smallBacklog.toLocaleString('en-US')} events (${results.fetcherMemory.smallEventsPerSecond.toLocaleString('en-US')} events/s), ${mib(results.fetcherMemory.largePeakRssBytes)} MiB with ${results.fetcherMemory.largeBacklog.toLocaleString('en-US')} (${results.fetcherMemory.largeEventsPerSecond.toLocaleString('en-US')} events/s): ${results.fetcherMemory.ratio}×.`,
    '',
    ...idleCostLines(results),
    ...(results.storageCost ? storageCostLines(results.storageCost) : []),
    '## Targets',
    '',
    '| target | measured | limit | result |',
    '| --- | ---: | ---: | --- |',
    ...results.targets.map(
      (target) => `| ${target.target} | ${target.measured} | ${target.limit} | ${target.verdict} |`,
    ),
    '',
    '## What is counted, and what is not',
    '',
    '- Counted: every AWS call made by the system’s own code from its start to the last backlog event acknowledged — fetcher or pump reads, sends, checkpoints, leases and run records; the worker’s idempotency reads and writes; and the event source mapping’s ReceiveMessage and DeleteMessageBatch calls, which AWS bills to the account as SQS requests (empty long polls included). Lambda requests are counted per invocation: the fetcher’s (or pump’s) runs and the worker’s batches; naive is modelled as one invocation per message.',
    '- Not counted in the systems’ table: the producer’s commits of events to the log (the same for every system that reads the log; `raw` has no log; the storage-cost section counts them for `sluice`), creating tables and queues, the handler’s own compute (Lambda GB-seconds, which depend on the user’s code), storage, and the emulators’ memory. Peak RSS is each system’s own process: for Sluice, the fetcher, the worker and the event source mappings together, as they would be three Lambda functions on AWS.',
    '- Reads from the log cost the same for sluice, naive and powertools (the same `readAfter`); `raw` reads nothing. Latency is from an event’s commit (its id’s time) to its handler starting, while events are committed one at a time at a steady rate; for `raw`, from the send.',
    '- Query read units are billed from the items returned (no filter is used); UpdateItem and DeleteItem are billed from their key and values, a floor of what AWS bills.',
    '',
  );
  const missed = results.targets.filter((target) => !target.met);
  lines.push('## Closing note', '');
  if (missed.length === 0) lines.push('Every target was met.');
  for (const target of missed) {
    const note = CLOSING_NOTES.find(([prefix]) => target.target.startsWith(prefix))?.[1] ?? '';
    lines.push(`- **${target.target}** — ${target.verdict}. ${note}`);
  }
  lines.push('', 'How the figures are made, and what profiling showed: [README.md](README.md).', '');
  return lines.join('\n');
}

function ratio(value: number): string {
  return `${value >= 10 ? Math.round(value) : Math.round(value * 100) / 100}×`;
}

function dollars(value: number): string {
  return `$${value.toFixed(value < 0.1 ? 4 : 3)}`;
}

function ms(value: number | null): string {
  return value === null ? '-' : `${value.toLocaleString('en-US')} ms`;
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

function gib(bytes: number): string {
  return (bytes / 1024 ** 3).toFixed(0);
}

/** The idle cost model's table, by part, when the results hold it. */
function idleCostLines(results: BenchResults): string[] {
  const idle = results.idleUsdPerPipelineMonth;
  if (!idle) return [];
  const row = (name: PipelineLatency, label: string) => {
    const parts = idle.parts[name];
    const total = idle[name];
    if (!parts || total === undefined) return [];
    return [
      `| ${label} | $${total} | $${parts.fetcherLambda} | $${parts.fetcherDynamoDb} | $${parts.sqsPollers} | $${parts.waker} |`,
    ];
  };
  return [
    '## Idle cost per pipeline per month (modelled)',
    '',
    'From the template `EventPipeline` synthesizes with each `latency` (fetcher memory, timeout, schedule, a woken run’s `untilIdleMs`); the assumptions are in `bench/cost/idle-cost.ts`.',
    '',
    '| latency | total | fetcher Lambda | fetcher DynamoDB | SQS pollers (queue + DLQ) | waker |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...row('economy', '`economy` (schedule only, as before)'),
    ...row('balanced', '`balanced` (wake on commit, the default)'),
    ...row('low', '`low` (wake on commit, a 300 ms settle window read every 200 ms)'),
    '',
    ...steadyLoadLines(results),
  ];
}

/** The steady-load cost model's table, by part, when the results hold it. */
function steadyLoadLines(results: BenchResults): string[] {
  const steady = results.steadyLoadUsdPerPipelineMonth;
  if (!steady) return [];
  const row = (name: PipelineLatency, label: string) => {
    const parts = steady.parts[name];
    return `| ${label} | $${steady[name]} | $${parts.fetcherLambda} | $${parts.fetcherDynamoDb} | $${parts.sqsPollers} | $${parts.waker} |`;
  };
  return [
    '## Steady-load cost per pipeline per month, beside its events (modelled)',
    '',
    'A stream that never goes quiet: with `economy` a run a minute tails until its timeout; woken on commit, one run tails all month (handing over at each deadline), the schedule’s runs find the lease held, and the waker runs on every batch of the table’s stream (four a second on one stream shard) and reads the pipeline’s lease. What the events themselves cost is the same in every mode (the per-million figures above). The assumptions are in `bench/cost/idle-cost.ts`.',
    '',
    '| latency | total | fetcher Lambda | fetcher DynamoDB | SQS pollers (queue + DLQ) | waker |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    row('economy', '`economy` (schedule only)'),
    row('balanced', '`balanced` (the default)'),
    row('low', '`low`'),
    ...(steady.balancedWakeWindow1s !== undefined && steady.balancedWakeWindow1sParts
      ? [
          `| \`balanced\` on a log with \`wakeBatchingWindow\` of 1 s (the first event after a quiet spell waits up to 1 s more) | $${steady.balancedWakeWindow1s} | $${steady.balancedWakeWindow1sParts.fetcherLambda} | $${steady.balancedWakeWindow1sParts.fetcherDynamoDb} | $${steady.balancedWakeWindow1sParts.sqsPollers} | $${steady.balancedWakeWindow1sParts.waker} |`,
        ]
      : []),
    '',
  ];
}
