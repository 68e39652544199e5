#!/usr/bin/env node
// Builds the published package into dist/: `tsc -p tsconfig.build.json` emits ES modules, `.d.ts`
// files and source maps; then every relative import specifier in the output is made one that plain
// Node ESM resolves. The sources import the way a bundler resolves (`./worker/types`, `./sync`), which
// Node's ESM loader refuses, and rewriting them all in the sources would touch every file for no
// reader's gain, so the output is fixed instead:
//   './worker/types'  -> './worker/types.js'    (a file)
//   './sync'          -> './sync/index.js'      (a folder)
//   '../functions/fetcher.ts' in `new URL(...)` -> '.js' (the Lambda entries CDK bundles)
//   '../package.json' -> the package's own package.json (not copied into dist)
// Files the compiler does not emit (`.mjs` scripts started as child processes) are copied.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
  cwd: root,
});
// The compiler copies an imported package.json into dist/; the package's own one is the one to read.
rmSync(join(dist, 'package.json'), { force: true });

/** Every file under a folder, recursively. */
function filesUnder(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

const isFile = (path) => existsSync(path) && statSync(path).isFile();
const asSpecifier = (from, to) => {
  const path = relative(dirname(from), to).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
};

/**
 * The specifier Node resolves for `specifier`, imported from the dist file `file`, or the specifier
 * unchanged when it already resolves. Fails the build for one that resolves nowhere.
 */
function resolved(file, specifier) {
  const target = resolve(dirname(file), specifier);
  if (isFile(target)) return specifier;
  if (specifier.endsWith('.ts') && isFile(target.replace(/\.ts$/, '.js')))
    return specifier.replace(/\.ts$/, '.js');
  if (isFile(`${target}.js`)) return `${specifier}.js`;
  if (isFile(join(target, 'index.js'))) return `${specifier.replace(/\/$/, '')}/index.js`;
  // Outside what was compiled (the package's package.json): point at it from where the output sits.
  const source = resolve(dirname(join(root, relative(dist, file))), specifier);
  if (isFile(source) && !source.startsWith(dist)) return asSpecifier(file, source);
  throw new Error(`${relative(root, file)} imports ${specifier}, which resolves to no file in dist/`);
}

// Plain scripts the compiler leaves alone but the output needs beside it.
for (const file of filesUnder(join(root, 'lib'))) {
  if (!file.endsWith('.mjs')) continue;
  copyFileSync(file, join(dist, relative(root, file)));
}

const SPECIFIER = /((?:\bfrom|\bimport|\bimport\s*\(|\bnew URL\s*\()\s*)(['"])(\.{1,2}\/[^'"\n]*)\2/g;
let rewritten = 0;
for (const file of filesUnder(dist)) {
  if (!file.endsWith('.js') && !file.endsWith('.d.ts')) continue;
  const text = readFileSync(file, 'utf8');
  const next = text
    .split('\n')
    .map((line) =>
      // Doc comments show imports of the reader's own files: those stay as written.
      /^\s*(\*|\/\/|\/\*)/.test(line)
        ? line
        : line.replace(SPECIFIER, (match, before, quote, specifier) => {
            const fixed = resolved(file, specifier);
            if (fixed === specifier) return match;
            rewritten += 1;
            return `${before}${quote}${fixed}${quote}`;
          }),
    )
    .join('\n');
  if (next !== text) writeFileSync(file, next);
}

console.log(`dist/: ${filesUnder(dist).length} files, ${rewritten} import specifiers made Node ESM ones`);
