import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LocalEnvironmentError } from './errors';

/** The version of tsx the local runtime is tested with: the one to install when it is missing. */
export const TSX_PACKAGE = 'tsx@4.23.15';
/** The version of fauxqs the SQS emulator is tested with. */
export const FAUXQS_PACKAGE = 'fauxqs@1.9.2';

const TYPESCRIPT = /\.[cm]?tsx?$/;

/**
 * Imports a module by path (taken from the working directory) or `file:` URL. A TypeScript file is
 * loaded with tsx's `tsImport`, which compiles it as ES module syntax whatever the project's
 * `"type"`, so a `.ts` file imports the same way in a CommonJS project (what `cdk init` makes) as in
 * an ES module one; other files with Node's own `import()`. tsx is an optional peer dependency,
 * imported only here.
 *
 * @throws `LocalEnvironmentError` with code `peer-dependency-missing` for a TypeScript file when tsx is not installed.
 *
 * @example
 * ```ts
 * const { handler } = await importModule('functions/billing-worker.ts');
 * ```
 */
export async function importModule(
  pathOrUrl: string,
  neededFor = `importing ${pathOrUrl}`,
): Promise<Record<string, unknown>> {
  const url = pathOrUrl.startsWith('file:')
    ? pathOrUrl
    : pathToFileURL(isAbsolute(pathOrUrl) ? pathOrUrl : resolve(pathOrUrl)).href;
  if (!TYPESCRIPT.test(fileURLToPath(url))) return (await import(url)) as Record<string, unknown>;
  let tsx: { tsImport(specifier: string, parentURL: string): Promise<unknown> };
  try {
    tsx = (await import('tsx/esm/api')) as typeof tsx;
  } catch (error) {
    if (isModuleNotFound(error))
      throw LocalEnvironmentError.missingPeerDependency(TSX_PACKAGE, neededFor, { cause: error });
    throw error;
  }
  const loaded = (await tsx.tsImport(url, import.meta.url)) as Record<string, unknown>;
  // In a CommonJS project the file compiles to CommonJS, and Node hands back its `module.exports` as
  // `default`; with `__esModule` set, that object holds the file's own exports, `default` included.
  const exported = loaded.default as { __esModule?: unknown } | undefined;
  return typeof exported === 'object' && exported !== null && exported.__esModule === true
    ? (exported as Record<string, unknown>)
    : loaded;
}

/**
 * Whether an import failed because the package is not installed.
 *
 * @example
 * ```ts
 * isModuleNotFound(error); // true for ERR_MODULE_NOT_FOUND
 * ```
 */
export function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}
