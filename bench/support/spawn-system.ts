import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { REPORT_PREFIX, type SystemConfig, type SystemReport } from './system-process';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Runs `bench/systems/<name>.ts` in a process of its own (so its peak RSS is its own), passes it
 * `config`, and resolves to the report it prints. Its other output goes to this process's stderr.
 *
 * @example
 * ```ts
 * const report = await spawnSystem('naive', config, { timeoutMs: 300_000 });
 * ```
 */
export function spawnSystem(
  name: string,
  config: SystemConfig,
  options: { readonly timeoutMs: number; readonly cpuProfileDirectory?: string },
): Promise<SystemReport> {
  const child = spawn(
    process.execPath,
    [
      ...(options.cpuProfileDirectory ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDirectory}`] : []),
      '--import',
      'tsx',
      resolve(ROOT, 'bench/systems', `${name}.ts`),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, BENCH_SYSTEM_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`  [${name}] ${chunk.toString()}`));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not finish within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((candidate) => candidate.startsWith(REPORT_PREFIX));
      if (code !== 0 || !line) {
        reject(new Error(`${name} exited with code ${code} and ${line ? 'a' : 'no'} report`));
        return;
      }
      resolvePromise(JSON.parse(line.slice(REPORT_PREFIX.length)) as SystemReport);
    });
  });
}
