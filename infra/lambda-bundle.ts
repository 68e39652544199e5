/**
 * How every Sluice Lambda entry point is bundled, in esbuild's own terms: one ES module for the
 * Node.js runtime of `SluiceFunction`, minified, with the AWS SDK left to the Lambda runtime and a
 * `require` for the CommonJS packages inside. `SluiceFunction` hands these to CDK's NodejsFunction;
 * the bundle-size test and the benchmark build with them too, so that they measure what is deployed.
 *
 * @example
 * ```ts
 * await build({ entryPoints: ['functions/fetcher.ts'], outfile, bundle: true, platform: 'node', ...LAMBDA_BUNDLE });
 * ```
 */
export const LAMBDA_BUNDLE = {
  target: 'node24',
  format: 'esm',
  mainFields: ['module', 'main'],
  minify: true,
  external: ['@aws-sdk/*'],
  banner: { js: "import { createRequire } from 'module';const require = createRequire(import.meta.url);" },
} as const;

/**
 * esbuild's options to bundle one Lambda entry point as `SluiceFunction` deploys it, for the code that
 * builds bundles itself to measure them: the bundle-size test, the benchmark and the package check.
 *
 * @example
 * ```ts
 * await build({ ...lambdaBuildOptions(ROOT, 'functions/fetcher.ts', outfile), logLevel: 'silent' });
 * ```
 */
export function lambdaBuildOptions(absWorkingDir: string, entry: string, outfile: string) {
  return {
    absWorkingDir,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node' as const,
    ...LAMBDA_BUNDLE,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    external: [...LAMBDA_BUNDLE.external],
  };
}
