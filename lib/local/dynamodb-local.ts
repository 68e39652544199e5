import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { LocalEnvironmentError } from './errors';
import { findFreePort } from './free-port';
import { defaultCacheDirectory, installDynamoDbLocal } from './install-dynamodb-local';
import { releaseServiceProcess, stopServiceProcess, trackServiceProcess } from './service-process';

/** Options for {@link startDynamoDbLocal}. */
export interface StartDynamoDbLocalOptions {
  /**
   * The port to listen on. DynamoDB Local has no bind-address flag and listens on every interface.
   * @default a free port
   */
  readonly port?: number;
  /** @default `SLUICE_CACHE_DIR`, else `$XDG_CACHE_HOME/sluice`, else `~/.cache/sluice` */
  readonly cacheDirectory?: string;
  /**
   * Start the JVM with its quick compiler only: ready sooner, runs slower. Right for tests, wrong for benchmarks.
   * @default false
   */
  readonly fastStart?: boolean;
  /** @default 60000 */
  readonly startTimeoutMs?: number;
}

/** A running DynamoDB Local. */
export interface RunningDynamoDbLocal {
  readonly endpoint: string;
  readonly pid: number;
  /** Stops it by its PID: SIGTERM, then SIGKILL after five seconds. */
  stop(): Promise<void>;
}

/**
 * Starts the official DynamoDB Local (in memory) on a loopback port, installing it first if needed,
 * and resolves once it answers requests.
 *
 * @example
 * ```ts
 * const dynamodb = await startDynamoDbLocal();
 * const client = new DynamoDBClient({ endpoint: dynamodb.endpoint, region: 'local' });
 * await dynamodb.stop();
 * ```
 */
export async function startDynamoDbLocal(
  options: StartDynamoDbLocalOptions = {},
): Promise<RunningDynamoDbLocal> {
  assertJavaPresent();
  const cacheDirectory = options.cacheDirectory ?? defaultCacheDirectory();
  const files = await installDynamoDbLocal(cacheDirectory);
  const workDirectory = join(cacheDirectory, 'dynamodb-local-work');
  await mkdir(workDirectory, { recursive: true });
  const port = options.port ?? (await findFreePort());

  const child = spawn(
    'java',
    [
      '-XX:-UsePerfData',
      ...(options.fastStart ? ['-XX:TieredStopAtLevel=1'] : []),
      `-Djava.library.path=${files.libraryPath}`,
      '-jar',
      files.jarPath,
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    {
      cwd: workDirectory,
      env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  trackServiceProcess(child);
  const output = captureOutput(child);
  const endpoint = `http://127.0.0.1:${port}`;

  try {
    await waitUntilAnswering(endpoint, child, output, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await stopServiceProcess(child);
    throw LocalEnvironmentError.emulatorStart(
      'DynamoDB Local',
      `${(error as Error).message}; its output: ${output().trim() || '(none)'}`,
      {
        cause: error,
      },
    );
  }
  releaseServiceProcess(child);
  return { endpoint, pid: child.pid as number, stop: () => stopServiceProcess(child) };
}

/**
 * Throws a `LocalEnvironmentError` with code `java-missing`, which says how to install Java, unless `java` runs.
 *
 * @example
 * ```ts
 * assertJavaPresent();
 * ```
 */
export function assertJavaPresent(): void {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore', timeout: 20_000 });
  if (probe.error || probe.status !== 0) throw LocalEnvironmentError.javaMissing({ cause: probe.error });
}

async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the java process exited (code ${child.exitCode}, signal ${child.signalCode})`);
      }
      // It logs a failed bind and keeps running without listening: stop waiting at once.
      if (/BindException|Address already in use/.test(output()))
        throw new Error(`port ${new URL(endpoint).port} is taken`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error(`no answer on ${endpoint} within ${timeoutMs} ms`);
  } finally {
    client.destroy();
  }
}

function captureOutput(child: ChildProcess): () => string {
  let text = '';
  const append = (chunk: Buffer) => {
    if (text.length < 8_000) text += chunk.toString();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => text;
}
