import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { lambdaBuildOptions } from '../infra/lambda-bundle';

const ROOT = resolve(import.meta.dirname, '..');

/** The Lambda entry points measured, by name. */
export const LAMBDA_ENTRY_POINTS = {
  fetcher: 'functions/fetcher.ts',
  worker: 'examples/handlers/orders-worker.ts',
  failedEvent: 'functions/failed.ts',
  powertoolsWorker: 'bench/systems/powertools-entry.ts',
} as const;

/**
 * The minified size in bytes of each Lambda entry point, bundled by esbuild as CDK's NodejsFunction
 * bundles an ESM function for Node 20, with the AWS SDK left to the Lambda runtime.
 *
 * @example
 * ```ts
 * const sizes = await measureBundles(); // { fetcher: 123456, ... }
 * ```
 */
export async function measureBundles(): Promise<Record<keyof typeof LAMBDA_ENTRY_POINTS, number>> {
  const outdir = await mkdtemp(join(tmpdir(), 'sluice-bench-bundle-'));
  try {
    const sizes: Partial<Record<keyof typeof LAMBDA_ENTRY_POINTS, number>> = {};
    for (const [name, entry] of Object.entries(LAMBDA_ENTRY_POINTS) as [
      keyof typeof LAMBDA_ENTRY_POINTS,
      string,
    ][]) {
      const outfile = join(outdir, `${name}.mjs`);
      await build({ ...lambdaBuildOptions(ROOT, entry, outfile), logLevel: 'silent' });
      sizes[name] = (await stat(outfile)).size;
    }
    return sizes as Record<keyof typeof LAMBDA_ENTRY_POINTS, number>;
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}
