import { build } from 'esbuild';
import { resolve } from 'node:path';
import { lambdaBuildOptions } from '/work/main/infra/lambda-bundle';
const ROOT = '/work/main';
const r = await build({ ...lambdaBuildOptions(ROOT, 'examples/handlers/orders-worker.ts', '/tmp/w.mjs'), logLevel: 'silent', metafile: true });
const out = Object.values(r.metafile!.outputs)[0]!;
const byGroup = new Map<string, number>();
for (const [path, info] of Object.entries(out.inputs)) {
  let g = path.replace(/^node_modules\//, 'nm/');
  if (g.startsWith('nm/')) g = g.split('/').slice(0, g.startsWith('nm/@') ? 3 : 2).join('/');
  byGroup.set(g, (byGroup.get(g) ?? 0) + info.bytesInOutput);
}
console.log('total', out.bytes);
for (const [g, b] of [...byGroup].sort((a, b) => b[1] - a[1]).slice(0, 60)) console.log(String(b).padStart(7), g);
