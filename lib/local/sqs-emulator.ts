import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SLUICE_VARIABLES } from '../settings/variables';
import { LocalEnvironmentError } from './errors';
import { FAUXQS_PACKAGE } from './import-module';
import { releaseServiceProcess, stopServiceProcess, trackServiceProcess } from './service-process';

/** Options for {@link startSqsEmulator}. */
export interface StartSqsEmulatorOptions {
  /** @default a free loopback port */
  readonly port?: number;
  /** @default 30000 */
  readonly startTimeoutMs?: number;
}

/** A running SQS emulator. */
export interface RunningSqsEmulator {
  readonly endpoint: string;
  readonly pid: number;
  /** Stops it by its PID: SIGTERM, then SIGKILL after five seconds. */
  stop(): Promise<void>;
}

const SERVER_SCRIPT = fileURLToPath(new URL('./sqs-emulator-server.mjs', import.meta.url));

/**
 * Starts the fauxqs SQS emulator in a child process on a loopback port and resolves once it listens.
 *
 * @example
 * ```ts
 * const sqs = await startSqsEmulator();
 * const client = new SQSClient({ endpoint: sqs.endpoint, region: 'local' });
 * await sqs.stop();
 * ```
 */
export async function startSqsEmulator(options: StartSqsEmulatorOptions = {}): Promise<RunningSqsEmulator> {
  const child = spawn(process.execPath, [SERVER_SCRIPT], {
    env: { ...process.env, [SLUICE_VARIABLES.sqsPort]: String(options.port ?? 0) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  trackServiceProcess(child);
  const timeoutMs = options.startTimeoutMs ?? 30_000;

  try {
    const port = await new Promise<number>((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`no port reported within ${timeoutMs} ms`)), timeoutMs);
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = stdout.split('\n')[0];
        if (stdout.includes('\n') && line) {
          clearTimeout(timer);
          const parsed = JSON.parse(line) as { port?: number; missing?: string };
          if (parsed.missing)
            reject(
              LocalEnvironmentError.missingPeerDependency(
                FAUXQS_PACKAGE,
                'The SQS emulator (the local runtime, sluice dev)',
              ),
            );
          else if (parsed.port) resolve(parsed.port);
          else reject(new Error(`it reported ${line}`));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(`its process exited (code ${code}, signal ${signal}): ${stderr.trim() || '(no output)'}`),
        );
      });
    });
    releaseServiceProcess(child);
    return {
      endpoint: `http://127.0.0.1:${port}`,
      pid: child.pid as number,
      stop: () => stopServiceProcess(child),
    };
  } catch (error) {
    await stopServiceProcess(child);
    if (error instanceof LocalEnvironmentError && error.code === 'peer-dependency-missing') throw error;
    throw LocalEnvironmentError.emulatorStart('the SQS emulator (fauxqs)', (error as Error).message, {
      cause: error,
    });
  }
}
