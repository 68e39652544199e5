import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Where `sluice dev` says it runs, relative to the project's folder. */
export const DEV_STATE_FILE = join('.sluice', 'dev.json');

/** What `sluice dev` writes while it runs, for the other commands to find it. */
export interface DevState {
  /** The `sluice dev` process. */
  readonly pid: number;
  readonly startedAt: string;
  readonly endpoints: { readonly dynamodb: string; readonly sqs: string };
  readonly region: string;
  readonly eventLogTable: string;
  readonly stateTable: string;
  readonly pipeline: string;
  readonly stream: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

/** A dev state found on disk, and where. */
export interface FoundDevState {
  readonly path: string;
  readonly state: DevState;
}

/**
 * The project a command runs in: the nearest folder at or above `cwd` holding a `package.json`,
 * else `cwd` itself.
 *
 * @example
 * ```ts
 * projectFolder('/home/me/app/src'); // '/home/me/app'
 * ```
 */
export function projectFolder(cwd: string): string {
  for (let folder = cwd; ; folder = dirname(folder)) {
    if (existsSync(join(folder, 'package.json'))) return folder;
    if (dirname(folder) === folder) return cwd;
  }
}

/**
 * Writes the state of a running `sluice dev` to `.sluice/dev.json` in the project (atomically: the
 * other commands never read half a file), and resolves to its path.
 *
 * @example
 * ```ts
 * const path = await writeDevState(process.cwd(), state);
 * ```
 */
export async function writeDevState(cwd: string, state: DevState): Promise<string> {
  const path = join(projectFolder(cwd), DEV_STATE_FILE);
  await mkdir(dirname(path), { recursive: true });
  const staging = `${path}.${process.pid}.tmp`;
  await writeFile(staging, `${JSON.stringify(state, null, 2)}\n`);
  await rename(staging, path);
  return path;
}

/**
 * Removes the dev state at `path` if the process `pid` wrote it (a second `sluice dev` in the same
 * project may have replaced it since).
 */
export async function removeDevState(path: string, pid: number): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return;
  }
  if (parseDevState(text)?.pid === pid) await rm(path, { force: true });
}

/**
 * The state of a `sluice dev` running in the project of `cwd`, or `undefined` when there is none:
 * no file, a file that does not parse, or one whose process has ended (stopped with `kill -9`).
 *
 * @example
 * ```ts
 * const found = readDevState(process.cwd());
 * if (found) console.log(found.state.endpoints.sqs);
 * ```
 */
export function readDevState(cwd: string): FoundDevState | undefined {
  const path = join(projectFolder(cwd), DEV_STATE_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const state = parseDevState(text);
  if (!state || !isRunning(state.pid)) return undefined;
  return { path, state };
}

function parseDevState(text: string): DevState | undefined {
  try {
    const value = JSON.parse(text) as Partial<DevState>;
    const fine =
      typeof value.pid === 'number' &&
      typeof value.endpoints?.dynamodb === 'string' &&
      typeof value.endpoints?.sqs === 'string' &&
      typeof value.eventLogTable === 'string' &&
      typeof value.stateTable === 'string';
    return fine ? (value as DevState) : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
