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
