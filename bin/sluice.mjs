#!/usr/bin/env node
// The `sluice` command. Installed from the registry, the package holds the compiled CLI in dist/ and
// no TypeScript source, and that is what runs. Inside the repository the source is there and runs
// through tsx's loader, so a change needs no build step and a stale dist/ is never what runs.
import { existsSync } from 'node:fs';

const source = new URL('../cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/cli/main.js');
}
