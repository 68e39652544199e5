import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
// A PATH with node on it and nothing else: no java.
const bin = mkdtempSync(join(tmpdir(), 'sluice-no-java-'));
symlinkSync(process.execPath, join(bin, 'node'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

function runDemo(...args: string[]) {
  return spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'examples/demo.ts', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, PATH: bin },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
}

describe('npm start without Java', () => {
  it('says how to install Java and exits 0, without hanging', () => {
    const result = runDemo();
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /no `java` was found on the PATH.*apt-get install -y openjdk-17-jre-headless/s,
    );
  });

  it('says so in JSON on the last line with --json', () => {
    const result = runDemo('--json');
    const last = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { error?: string };
    expect(last.error).toMatch(/openjdk-17-jre-headless/);
  });
});
