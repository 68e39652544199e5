import { SluiceError } from '../errors';

/** Java is needed to run DynamoDB Local and is not on this machine. */
export class JavaMissingError extends SluiceError {
  constructor(options?: { cause?: unknown }) {
    super(
      'DynamoDB Local needs Java 17 or later, and no `java` was found on the PATH. Install it with ' +
        '`sudo apt-get install -y openjdk-17-jre-headless` (Debian, Ubuntu) or `brew install openjdk@17` (macOS), ' +
        'or point Sluice at DynamoDB elsewhere with AWS_ENDPOINT_URL_DYNAMODB.',
      options,
    );
    this.name = 'JavaMissingError';
  }
}

/** A local emulator that could not be installed or did not start. */
export class EmulatorStartError extends SluiceError {
  readonly emulator: string;

  constructor(emulator: string, reason: string, options?: { cause?: unknown }) {
    super(`${emulator} did not start: ${reason}`, options);
    this.name = 'EmulatorStartError';
    this.emulator = emulator;
  }
}
