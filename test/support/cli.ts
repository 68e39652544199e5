import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { inject } from 'vitest';
import { runCli } from '../../cli/program';

/** What a run of `sluice` wrote, and its exit code. */
export interface SluiceRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link startSluice} and {@link sluice}. */
export interface SluiceOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly stdin?: string;
  /** @default a folder of this test file's own, so that no run reads or writes the repository's `.sluice/` */
  readonly cwd?: string;
}

const ownFolder = mkdtempSync(join(tmpdir(), 'sluice-cli-'));

/**
 * The environment of an operator's shell pointed at the emulators the global setup started: endpoints,
 * keys, region and tables.
 *
 * @example
 * ```ts
 * const env = emulatorEnvironment({ eventLogTable: events.name, stateTable: state.name });
 * ```
 */
export function emulatorEnvironment(tables: {
  readonly eventLogTable: string;
  readonly stateTable: string;
}): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
    AWS_ENDPOINT_URL_SQS: inject('sqsEndpoint'),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    SLUICE_EVENT_LOG_TABLE: tables.eventLogTable,
    SLUICE_STATE_TABLE: tables.stateTable,
  };
}

/**
 * Starts `sluice` in-process; `stop()` ends it as Ctrl-C would and resolves to its run, `done` resolves
 * when it ends by itself.
 *
 * @example
 * ```ts
 * const dev = startSluice(['dev', 'pipeline.dev.mjs'], { env });
 * const { code, stdout } = await dev.stop();
 * ```
 */
export function startSluice(
  args: readonly string[],
  options: SluiceOptions,
): { output(): Omit<SluiceRun, 'code'>; stop(): Promise<SluiceRun>; done: Promise<SluiceRun> } {
  let stdout = '';
  let stderr = '';
  const interrupt = new AbortController();
  const done = runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    env: options.env,
    cwd: options.cwd ?? ownFolder,
    signal: interrupt.signal,
  }).then((code) => ({ code, stdout, stderr }));
  return {
    output: () => ({ stdout, stderr }),
    stop: () => {
      interrupt.abort();
      return done;
    },
    done,
  };
}

/**
 * Runs `sluice` in-process to its end.
 *
 * @example
 * ```ts
 * const { code, stdout, stderr } = await sluice(['status', '--json'], { env });
 * ```
 */
export function sluice(args: readonly string[], options: SluiceOptions): Promise<SluiceRun> {
  return startSluice(args, options).done;
}
