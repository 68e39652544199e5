import { SluiceError } from '../errors';

/** The codes of a `LocalEnvironmentError`. */
export type LocalEnvironmentCode = 'java-missing' | 'emulator-start-failed' | 'peer-dependency-missing';

/**
 * What the local runtime needs and this machine lacks. `code` says which:
 *
 * - `java-missing`: DynamoDB Local needs Java 17 or later, and no `java` is on the PATH.
 * - `emulator-start-failed`: the local `emulator` could not be installed or did not start.
 * - `peer-dependency-missing`: an optional peer dependency is not installed; `packageName` is the
 *   package to install, with its version (`tsx@4.23.15`).
 *
 * The message says what to install or fix.
 *
 * @example
 * ```ts
 * try {
 *   await startLocal();
 * } catch (error) {
 *   if (error instanceof LocalEnvironmentError && error.code === 'java-missing') console.error(error.message);
 *   else throw error;
 * }
 * ```
 */
export class LocalEnvironmentError extends SluiceError {
  declare readonly code: LocalEnvironmentCode;
  /** For `emulator-start-failed`: the emulator that did not start. */
  readonly emulator: string | undefined;
  /** For `peer-dependency-missing`: the package to install, with its version. */
  readonly packageName: string | undefined;

  constructor(
    message: string,
    details: { code: LocalEnvironmentCode; emulator?: string; packageName?: string },
    options?: { cause?: unknown },
  ) {
    super(message, { cause: options?.cause, code: details.code });
    this.name = 'LocalEnvironmentError';
    this.emulator = details.emulator;
    this.packageName = details.packageName;
  }

  /** Java is needed to run DynamoDB Local and is not on this machine: code `java-missing`. */
  static javaMissing(options?: { cause?: unknown }): LocalEnvironmentError {
    return new LocalEnvironmentError(
      'DynamoDB Local needs Java 17 or later, and no `java` was found on the PATH. Install it with ' +
        '`sudo apt-get install -y openjdk-17-jre-headless` (Debian, Ubuntu) or `brew install openjdk@17` (macOS), ' +
        'or point Sluice at DynamoDB elsewhere with AWS_ENDPOINT_URL_DYNAMODB.',
      { code: 'java-missing' },
      options,
    );
  }

  /** A local emulator that could not be installed or did not start: code `emulator-start-failed`. */
  static emulatorStart(
    emulator: string,
    reason: string,
    options?: { cause?: unknown },
  ): LocalEnvironmentError {
    const message = `${emulator} did not start: ${reason}`;
    return new LocalEnvironmentError(message, { code: 'emulator-start-failed', emulator }, options);
  }

  /**
   * An optional peer dependency that is not installed: code `peer-dependency-missing`.
   *
   * @param packageName the package to install, with its version: `tsx@4.23.15`.
   * @param neededFor what needs it, as the message names it.
   */
  static missingPeerDependency(
    packageName: string,
    neededFor: string,
    options?: { cause?: unknown },
  ): LocalEnvironmentError {
    return new LocalEnvironmentError(
      `${neededFor} needs the package ${packageName.replace(/@[^@]*$/, '')}, which is not installed: run \`npm i -D ${packageName}\``,
      { code: 'peer-dependency-missing', packageName },
      options,
    );
  }
}
