import { SCENARIOS } from './scenarios';

/** How to call the runner. */
export const USAGE =
  'usage: npm run chaos -- [--quick] [--json] [--seed N] [--concurrency N] [--scenario name[,name...]]\n' +
  `scenarios: ${SCENARIOS.map((scenario) => scenario.name).join(', ')}`;

/** What the command line asks for. */
export interface ChaosArguments {
  readonly quick: boolean;
  readonly json: boolean;
  readonly seed: number;
  /** Scenarios run at once (each on its own tables and queues). @default DEFAULT_CONCURRENCY */
  readonly concurrency: number;
  readonly scenarios?: readonly string[];
}

/**
 * Scenarios run at once by default: most of a scenario's time is spent waiting out backoffs,
 * visibility timeouts and leases, so three share two cores without slowing each other much.
 */
export const DEFAULT_CONCURRENCY = 3;

/**
 * Reads the runner's command line; throws an error naming the bad argument and its value.
 *
 * @example
 * ```ts
 * parseArguments(['--quick', '--json', '--seed', '7']); // { quick: true, json: true, seed: 7, concurrency: 3 }
 * ```
 */
export function parseArguments(argv: readonly string[]): ChaosArguments {
  let quick = false;
  let json = false;
  let seed = 1;
  let concurrency = DEFAULT_CONCURRENCY;
  let scenarios: string[] | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index] as string;
    const value = () => {
      const next = argv[index + 1];
      if (next === undefined || next.startsWith('--')) throw new Error(`${argument} needs a value`);
      index += 1;
      return next;
    };
    if (argument === '--quick') quick = true;
    else if (argument === '--json') json = true;
    else if (argument === '--seed') {
      const given = value();
      if (!/^[0-9]{1,9}$/.test(given))
        throw new Error(`--seed must be a whole number from 0 to 999999999 (given '${given}')`);
      seed = Number(given);
    } else if (argument === '--concurrency') {
      const given = value();
      if (!/^[0-9]{1,2}$/.test(given) || Number(given) < 1 || Number(given) > 20)
        throw new Error(`--concurrency must be a whole number from 1 to 20 (given '${given}')`);
      concurrency = Number(given);
    } else if (argument === '--scenario') {
      const names = value().split(',');
      const unknown = names.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
      if (unknown.length > 0)
        throw new Error(`unknown scenario(s) ${unknown.map((name) => `'${name}'`).join(', ')}`);
      scenarios = [...(scenarios ?? []), ...names];
    } else throw new Error(`unknown argument '${argument}'`);
  }
  return { quick, json, seed, concurrency, ...(scenarios ? { scenarios } : {}) };
}
