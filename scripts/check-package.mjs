#!/usr/bin/env node
// `npm run test:package`: packs Sluice as it would be published and uses it the way users do, in
// fresh projects outside this repository:
//
//   a CDK app as `cdk init app --language typescript` makes it (CommonJS, its tsconfig), with its own
//   aws-cdk-lib and constructs, a worker written with `createWorker` and a stack with `EventPipeline`,
//   `SluiceGuardrails` and `alarmTopic: new Topic(...)` (the README's code): `tsc` passes (NodeNext,
//   and node10 resolution too), `cdk synth` passes with one aws-cdk-lib in the tree, and the guardrail
//   fails the synth of a deliberately unsafe queue of the app's own;
//
//   a plain ES module Node project with only Sluice installed (what a Lambda worker needs): its
//   packages and size are printed, plain `node` imports the worker, `require('sluice')` works from
//   CommonJS, the installed CLI runs, and esbuild bundles the worker to the same size as the same
//   worker bundled inside this repository.
//
// Installs come from npm's cache (`--prefer-offline`): every version here is one this repository's
// lock file already installed. Exits non-zero, naming the check, on the first failure.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ownPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const versionOf = (name) => {
  const version = ownPackage.devDependencies?.[name] ?? ownPackage.dependencies?.[name];
  if (!version) throw new Error(`package.json names no version of ${name}`);
  return version;
};
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
const cdkCli = join(root, 'node_modules', 'aws-cdk', 'bin', 'cdk');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const quietEnv = {
  ...process.env,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  CDK_DISABLE_VERSION_CHECK: 'true',
  // The template's CloudFormation validation is covered by the repository's own synth tests.
  CDK_VALIDATION: 'false',
};
const started = Date.now();
let passed = 0;

const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
function step(message) {
  console.log(`--- ${message} (${elapsed()})`);
}
function pass(message) {
  passed += 1;
  console.log(`ok  ${message}`);
}
class CheckFailed extends Error {}
function fail(message, detail = '') {
  throw new CheckFailed(`${message}${detail ? `\n${detail}` : ''}`);
}

/** Runs a command to its end; resolves with its output, whatever its exit code. */
async function run(command, args, options = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, {
      env: quietEnv,
      maxBuffer: 64 * 1024 * 1024,
      ...options,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    if (typeof error.code !== 'number') throw error;
    return { code: error.code, stdout: error.stdout ?? '', stderr: error.stderr ?? '' };
  }
}

/** Runs a command that must succeed, failing the check with its output when it does not. */
async function must(what, command, args, options) {
  const result = await run(command, args, options);
  if (result.code !== 0)
    fail(what, `${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

function folderBytes(folder) {
  let total = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) total += folderBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}
const megabytes = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function writeFiles(folder, files) {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), text);
  }
}

/** The README's worker (see "Handling events"), importing from the installed package. */
const README_WORKER = `import { createWorker, NonRetryableError } from 'sluice';
import { z } from 'zod';

async function charge(orderId: string): Promise<void> {
  if (!orderId) throw new Error('no order');
}

export const handler = createWorker<{ orderId: string; amount: number }>({
  schemas: { 'order.placed': z.object({ orderId: z.string(), amount: z.number().positive() }) },
  concurrency: 20,
  maxRedeliveryCount: 5,
  handle: async (event) => {
    if (event.data.amount > 10_000) throw new NonRetryableError('needs a manual review');
    await charge(event.data.orderId);
    return { stream: 'invoices', type: 'invoice.requested', data: { orderId: event.data.orderId } };
  },
});
`;

/**
 * The README's stack (see "Deploying to AWS") and a `latency: 'low'` pipeline, with an unsafe queue of
 * the app's own on demand.
 */
const README_APP = `import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { EventLog, EventPipeline, SluiceGuardrails } from 'sluice/infra';

const app = new App();
const stack = new Stack(app, 'Orders');
const eventLog = new EventLog(stack, 'EventLog');
new EventPipeline(stack, 'Billing', {
  eventLog,
  stream: 'orders',
  eventTypes: ['order.placed'],
  entry: 'src/billing-worker.ts',
  maxRedeliveryCount: 5,
  maxConcurrency: 10,
  alarmTopic: new Topic(stack, 'Pager'),
});
// And one that stores its stream's short timing at deploy, through a custom resource.
new EventPipeline(stack, 'Shipping', {
  eventLog,
  stream: 'shipments',
  entry: 'src/billing-worker.ts',
  latency: 'low',
});
// A stack of the app's own with a queue that has no dead-letter queue and no alarm: the guardrails
// must refuse it.
if (process.env.ADD_UNSAFE_STACK)
  new Queue(new Stack(app, 'Unsafe'), 'Jobs', { visibilityTimeout: Duration.seconds(60) });
Aspects.of(app).add(new SluiceGuardrails());
`;

/** The tsconfig of \`cdk init app --language typescript\` (CDK CLI 2.1148), without jest's types. */
const CDK_INIT_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['es2022'],
    declaration: true,
    strict: true,
    noImplicitAny: true,
    strictNullChecks: true,
    noImplicitThis: true,
    alwaysStrict: true,
    noUnusedLocals: false,
    noUnusedParameters: false,
    noImplicitReturns: true,
    noFallthroughCasesInSwitch: false,
    inlineSourceMap: true,
    inlineSources: true,
    experimentalDecorators: true,
    strictPropertyInitialization: false,
    skipLibCheck: true,
    typeRoots: ['./node_modules/@types'],
    noEmit: true,
    isolatedModules: true,
    types: ['node'],
  },
  exclude: ['node_modules', 'cdk.out'],
};

const work = mkdtempSync(join(tmpdir(), 'sluice-package-'));
try {
  // --- Pack -------------------------------------------------------------------------------------
  step('npm pack (builds dist/ first)');
  const packOutput = (
    await must('npm pack', 'npm', ['pack', '--json', '--pack-destination', work, '--loglevel=error'], {
      cwd: root,
    })
  ).stdout;
  // The prepack build prints a line of its own before npm's JSON.
  const packed = JSON.parse(packOutput.slice(packOutput.search(/^\[/m)))[0];
  const tarball = join(work, packed.filename);
  const shipped = packed.files.map((file) => file.path);
  console.log(
    `    ${packed.filename}: ${packed.entryCount} files, ${megabytes(packed.size)} packed, ${megabytes(packed.unpackedSize)} unpacked`,
  );
  const stray = shipped.filter(
    (path) => !/^(dist\/|bin\/|README\.md$|LICENSE$|package\.json$)/.test(path) || /\.test\./.test(path),
  );
  if (stray.length > 0)
    fail('the tarball holds only dist/, bin/, README.md, LICENSE and package.json', stray.join('\n'));
  pass('the tarball holds only dist/, bin/, README.md, LICENSE and package.json');

  // --- Install both projects at once -------------------------------------------------------------
  step('install the tarball into a CDK app and into a plain ES module project');
  const cdkApp = join(work, 'cdk-app');
  const esmApp = join(work, 'esm-app');
  writeFiles(cdkApp, {
    // What `cdk init app --language typescript` writes: CommonJS (no "type"), tsc before the app.
    'package.json': `${JSON.stringify({ name: 'cdk-app', version: '0.1.0', private: true, bin: { 'cdk-app': 'bin/app.js' } }, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(CDK_INIT_TSCONFIG, null, 2)}\n`,
    'cdk.json': `${JSON.stringify({ app: 'npx tsc && npx tsx bin/app.ts' }, null, 2)}\n`,
    'bin/app.ts': README_APP,
    'src/billing-worker.ts': README_WORKER,
  });
  writeFiles(esmApp, {
    'package.json': `${JSON.stringify({ name: 'esm-app', version: '0.1.0', private: true, type: 'module' }, null, 2)}\n`,
  });
  const cdkInstall = must(
    'install into the CDK app',
    'npm',
    [
      'install',
      ...NPM_FLAGS,
      tarball,
      `aws-cdk-lib@${versionOf('aws-cdk-lib')}`,
      `constructs@${versionOf('constructs')}`,
      // NodejsFunction bundles with a local esbuild; the app compiles with tsc and runs with tsx.
      `esbuild@${versionOf('esbuild')}`,
      `tsx@${versionOf('tsx')}`,
      `typescript@${versionOf('typescript')}`,
      `@types/node@${versionOf('@types/node')}`,
    ],
    { cwd: cdkApp },
  );
  const esmInstall = must('install into the ES module project', 'npm', ['install', ...NPM_FLAGS, tarball], {
    cwd: esmApp,
  });
  await Promise.all([cdkInstall, esmInstall]);
  pass('npm installs the tarball into both projects');

  // --- The plain ES module project: a worker-only install ----------------------------------------
  step('the ES module project');
  const installed = (await must('npm ls', 'npm', ['ls', '--all', '--parseable'], { cwd: esmApp })).stdout
    .split('\n')
    .filter((line) => line.includes('node_modules'));
  const installedPackages = new Set(
    installed.map((path) => path.slice(path.lastIndexOf('node_modules/') + 13)),
  );
  console.log(
    `    a worker-only install: ${installedPackages.size} packages, ${megabytes(folderBytes(join(esmApp, 'node_modules')))} of node_modules`,
  );
  for (const heavy of ['aws-cdk-lib', 'constructs', 'fauxqs', 'tsx', 'fastify']) {
    if (installedPackages.has(heavy)) fail(`a worker-only install leaves out ${heavy}`);
  }
  pass('a worker-only install holds no aws-cdk-lib, constructs, fauxqs or tsx');

  const workerTs = readFileSync(join(root, 'examples', 'handlers', 'orders-worker.ts'), 'utf8').replace(
    /from '\.\.\/\.\.\/lib'/,
    "from 'sluice'",
  );
  writeFiles(esmApp, {
    'worker.ts': workerTs,
    'worker.js': `import { createWorker, NonRetryableError } from 'sluice';

export const handler = createWorker({
  handle: async (event) => {
    if (event.data.amount > 10_000) throw new NonRetryableError('needs a manual review');
  },
});
`,
    'require.cjs': `const sluice = require('sluice');
if (typeof sluice.createWorker !== 'function') throw new Error('require("sluice") has no createWorker');
console.log(Object.keys(sluice).length);
`,
  });
  const imported = await must(
    'plain node imports the worker',
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const worker = await import('./worker.js'); if (typeof worker.handler !== 'function') throw new Error('no handler'); const root = await import('sluice'); console.log(Object.keys(root).length);",
    ],
    {
      cwd: esmApp,
      // What EventPipeline sets on the worker's Lambda; a worker checks them when it is made.
      env: {
        ...quietEnv,
        SLUICE_PIPELINE: 'billing',
        SLUICE_STATE_TABLE: 'sluice-state',
        SLUICE_DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/billing-dlq',
        AWS_REGION: 'eu-west-1',
      },
    },
  );
  pass(`plain node imports the worker (the root entry has ${imported.stdout.trim()} names)`);
  await must('require(esm) loads sluice from CommonJS', process.execPath, ['require.cjs'], { cwd: esmApp });
  pass('require("sluice") works from CommonJS (require of an ES module)');
  for (const entry of ['sluice/operations', 'sluice/sync', 'sluice/testing', 'sluice/local']) {
    await must(
      `plain node imports ${entry}`,
      process.execPath,
      ['--input-type=module', '-e', `await import('${entry}');`],
      {
        cwd: esmApp,
      },
    );
  }
  pass('plain node imports sluice/operations, sluice/sync, sluice/testing and sluice/local');
  const version = await must(
    'the installed CLI runs',
    join(esmApp, 'node_modules', '.bin', 'sluice'),
    ['--version'],
    {
      cwd: esmApp,
    },
  );
  if (version.stdout.trim() !== ownPackage.version)
    fail('sluice --version prints the version', version.stdout);
  pass(`the installed CLI runs from dist/ without tsx (sluice --version: ${version.stdout.trim()})`);

  step('bundle the worker as Lambda gets it, installed and in the repository');
  const { build } = await import(join(root, 'node_modules', 'esbuild', 'lib', 'main.js'));
  const { lambdaBuildOptions } = await import(join(root, 'dist', 'infra', 'lambda-bundle.js'));
  const bundleBytes = async (absWorkingDir, entry) => {
    const outfile = join(work, `${entry.replace(/\W/g, '-')}.bundle.mjs`);
    await build({ ...lambdaBuildOptions(absWorkingDir, entry, outfile), logLevel: 'error' });
    return statSync(outfile).size;
  };
  const installedBundle = await bundleBytes(esmApp, 'worker.ts');
  const repoBundle = await bundleBytes(root, 'examples/handlers/orders-worker.ts');
  const growth = installedBundle / repoBundle - 1;
  console.log(
    `    the example worker: ${installedBundle} bytes bundled from the installed package, ${repoBundle} bytes in the repository (${(growth * 100).toFixed(1)}%)`,
  );
  if (Math.abs(growth) > 0.02) fail('the installed worker bundles within 2% of the in-repository bundle');
  pass('the installed worker bundles within 2% of the in-repository bundle');

  // --- The CDK app -------------------------------------------------------------------------------
  step('the CDK app');
  await must(
    'tsc passes in the CDK app (cdk init settings)',
    process.execPath,
    [tsc, '-p', 'tsconfig.json'],
    {
      cwd: cdkApp,
    },
  );
  pass('tsc passes with the cdk init tsconfig (CommonJS, NodeNext)');
  await must(
    'tsc passes in the CDK app with node10 resolution',
    process.execPath,
    [
      tsc,
      '-p',
      'tsconfig.json',
      '--module',
      'commonjs',
      '--moduleResolution',
      'node10',
      '--ignoreDeprecations',
      '6.0',
    ],
    { cwd: cdkApp },
  );
  pass('tsc passes with node10 resolution (typesVersions finds the subpath types)');

  const cdkLibs = (
    await must('npm ls aws-cdk-lib', 'npm', ['ls', 'aws-cdk-lib', '--all', '--parseable'], { cwd: cdkApp })
  ).stdout
    .split('\n')
    .filter(Boolean);
  if (cdkLibs.length !== 1) fail('the CDK app has one aws-cdk-lib', cdkLibs.join('\n'));
  pass('the CDK app has exactly one aws-cdk-lib');

  const synth = await must(
    'cdk synth passes in the CDK app',
    process.execPath,
    [cdkCli, 'synth', '--quiet'],
    {
      cwd: cdkApp,
    },
  );
  if (/SluiceGuardrails/.test(synth.stdout + synth.stderr))
    fail('the README stack passes the guardrails', synth.stderr);
  pass('cdk synth passes (tsc, then the README stack with its worker, fetcher and failed handler bundled)');

  // Only the unsafe stack is synthesized, so nothing is bundled again; tsc already passed above.
  const unsafe = await run(
    process.execPath,
    [cdkCli, 'synth', 'Unsafe', '--quiet', '--app', 'npx tsx bin/app.ts'],
    {
      cwd: cdkApp,
      env: { ...quietEnv, ADD_UNSAFE_STACK: '1' },
    },
  );
  const said = unsafe.stdout + unsafe.stderr;
  if (
    unsafe.code === 0 ||
    !/\[SluiceGuardrails\] queue Unsafe\/Jobs\/Resource has no dead-letter queue/.test(said)
  )
    fail("the guardrails fail the synth of the app's own unsafe queue", `exit ${unsafe.code}\n${said}`);
  pass("the guardrails fail the synth of the app's own unsafe queue (exit non-zero, naming it)");

  console.log(`${passed} passed, 0 failed (${elapsed()})`);
} catch (error) {
  if (!(error instanceof CheckFailed)) throw error;
  console.error(`FAIL ${error.message}`);
  console.log(`${passed} passed, 1 failed (${elapsed()})`);
  process.exitCode = 1;
} finally {
  // SLUICE_KEEP_PACKAGE_CHECK=1 keeps the projects to look into.
  if (process.env.SLUICE_KEEP_PACKAGE_CHECK) console.log(`    kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
