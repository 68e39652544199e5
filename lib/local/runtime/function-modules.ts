import { describe, SluiceError, ValidationError } from '../../errors';
import { LocalEnvironmentError } from '../errors';
import { importModule } from '../import-module';
import type { LambdaHandler } from './lambda-context';

/** A module file and the name of its export, loaded as Lambda would load it. */
export interface ModuleExport {
  /** A path (resolved from the working directory) or a `file:` URL. */
  readonly path: string;
  /** @default 'handler' */
  readonly exportName?: string;
}

/**
 * The handler a module exports, imported as Lambda would import it.
 *
 * @throws `ValidationError` when the module exports no function of that name; `SluiceError` when it
 * cannot be imported.
 *
 * @example
 * ```ts
 * const worker = await importHandler<LambdaSqsEvent>({ path: 'functions/billing-worker.ts' }, 'workerModule');
 * ```
 */
export async function importHandler<TEvent>(
  module: ModuleExport,
  option: string,
): Promise<LambdaHandler<TEvent>> {
  const exportName = module.exportName ?? 'handler';
  let loaded: Record<string, unknown>;
  try {
    loaded = await importModule(module.path, `${option} ${module.path}`);
  } catch (error) {
    if (error instanceof LocalEnvironmentError && error.code === 'peer-dependency-missing') throw error;
    throw new SluiceError(`${option}: could not import ${module.path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const handler = loaded[exportName];
  if (typeof handler !== 'function')
    throw new ValidationError(
      `${option}: ${module.path} exports no function named ${exportName} (given ${describe(typeof handler)})`,
      module,
    );
  return handler as LambdaHandler<TEvent>;
}

/**
 * Sets variables in `process.env` (an `undefined` value removes one); the returned function puts the
 * earlier values back.
 *
 * @example
 * ```ts
 * const restore = setEnvironment({ AWS_REGION: 'us-east-1' });
 * restore();
 * ```
 */
export function setEnvironment(variables: Readonly<Record<string, string | undefined>>): () => void {
  const previous = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(variables)) {
    previous.set(name, process.env[name]);
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
