import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaBuildOptions } from '../../infra/lambda-bundle';

const ROOT = resolve(import.meta.dirname, '../..');

/** Input paths that must never reach a Lambda bundle: the local runtime, emulators, CDK and tests. */
const FORBIDDEN = [
  /(^|\/)lib\/local\//,
  /fauxqs/,
  /aws-cdk-lib/,
  /(^|\/)node_modules\/constructs\//,
  /(^|\/)test\//,
];

/** Each Lambda entry point, and a library file its bundle must hold. */
/**
 * Each Lambda entry point, a library file its bundle must hold, and the AWS SDK clients it loads at
 * cold start: only those it calls, since an unused import of a client still loads it.
 */
const ENTRY_POINTS: readonly {
  name: string;
  entry: string;
  holds: string;
  sdkClients: readonly string[];
  alsoForbidden?: RegExp;
}[] = [
  {
    // It invokes itself to hand over events a woken run had to leave (Lambda).
    name: 'fetcher',
    entry: 'functions/fetcher.ts',
    holds: 'lib/fetcher/fetcher.ts',
    sdkClients: ['client-dynamodb', 'client-eventbridge', 'client-lambda', 'client-sqs'],
  },
  {
    name: 'worker (example)',
    entry: 'examples/handlers/orders-worker.ts',
    holds: 'lib/worker/process-batch.ts',
    sdkClients: ['client-dynamodb', 'client-sqs'],
  },
  // The backfill function runs a fetcher on the requested backfill alone.
  {
    name: 'backfill',
    entry: 'functions/backfill.ts',
    holds: 'lib/backfill/run-requested.ts',
    sdkClients: ['client-dynamodb', 'client-eventbridge', 'client-sqs'],
  },
  // The failed-event function needs neither the fetcher nor the worker; it reads the worker's markers
  // (to leave out events that already succeeded), and only that.
  {
    name: 'failed-event',
    entry: 'functions/failed.ts',
    holds: 'lib/failed/dlq-consumer.ts',
    sdkClients: ['client-dynamodb'],
    alsoForbidden: /(^|\/)lib\/(fetcher\/|worker\/(?!marker-store\.ts$))/,
  },
  {
    name: 'ingest',
    entry: 'functions/ingest.ts',
    holds: 'lib/ingest/run-ingest.ts',
    sdkClients: ['client-dynamodb'],
    alsoForbidden: /(^|\/)lib\/(fetcher|worker)\//,
  },
  // The stream-timing resource stores a stream's timing at deploy: none of the fetcher or worker.
  {
    name: 'stream-timing',
    entry: 'functions/stream-timing.ts',
    holds: 'lib/event-log/stream-timing-resource.ts',
    sdkClients: ['client-dynamodb'],
    alsoForbidden: /(^|\/)lib\/(fetcher|worker)\//,
  },
  // The waker only reads stream keys and invokes fetchers: none of the event log, fetcher or worker.
  {
    name: 'waker',
    entry: 'functions/waker.ts',
    holds: 'lib/wake/waker.ts',
    sdkClients: ['client-dynamodb', 'client-lambda'],
    alsoForbidden: /(^|\/)lib\/(fetcher|worker|event-log\/event-log\.ts)/,
  },
];

describe.each(ENTRY_POINTS)(
  'the $name Lambda bundle',
  ({ name, entry, holds, sdkClients, alsoForbidden }) => {
    let outdir: string;
    let metafile: Metafile;
    let sizeBytes: number;

    beforeAll(async () => {
      // Prepare: the esbuild settings SluiceFunction deploys with (an ESM bundle for its Node.js
      // runtime, with the AWS SDK left to the Lambda runtime).
      outdir = await mkdtemp(join(tmpdir(), 'sluice-bundle-'));
      const outfile = join(outdir, 'index.mjs');

      // Act
      const result = await build({
        ...lambdaBuildOptions(ROOT, entry, outfile),
        metafile: true,
        logLevel: 'silent',
      });
      metafile = result.metafile;
      sizeBytes = (await stat(outfile)).size;
      console.log(`${name} bundle: ${sizeBytes} bytes`);
    }, 60_000);

    afterAll(async () => {
      if (outdir) await rm(outdir, { recursive: true, force: true });
    });

    it('builds, with the handler and its library code inside', () => {
      const inputs = Object.keys(metafile.inputs);
      expect(inputs).toContain(entry);
      expect(inputs).toContain(holds);
      expect(sizeBytes).toBeGreaterThan(0);
    });

    it('holds nothing of the local runtime, the emulators, CDK or the tests', () => {
      const forbidden = Object.keys(metafile.inputs).filter((path) =>
        [...FORBIDDEN, ...(alsoForbidden ? [alsoForbidden] : [])].some((rule) => rule.test(path)),
      );
      expect(forbidden).toEqual([]);
    });

    it('leaves the AWS SDK to the Lambda runtime', () => {
      const sdk = Object.keys(metafile.inputs).filter((path) => path.includes('@aws-sdk/'));
      expect(sdk).toEqual([]);
    });

    it('loads only the AWS SDK clients it calls', () => {
      const imported = Object.values(metafile.outputs)
        .flatMap((output) => output.imports)
        .filter((entry) => entry.external && entry.path.startsWith('@aws-sdk/'))
        .map((entry) => entry.path.replace('@aws-sdk/', '').split('/')[0]);
      expect([...new Set(imported)].sort()).toEqual(sdkClients);
    });
  },
);
