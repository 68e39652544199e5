/** Exit codes of the `sluice` command. */
export const EXIT_CODE = {
  ok: 0,
  /** The command ran and failed: AWS refused a call, a pipeline does not exist, input was malformed. */
  failed: 1,
  /** The command line is wrong: unknown command or option, bad or missing value. */
  usage: 2,
} as const;

/** A command line that cannot run as given; the message names the option and the value. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The one-line message of a failure: Sluice errors carry their own, AWS errors get their name in front. */
export function failureMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const fromAws = (error as { $metadata?: unknown }).$metadata !== undefined;
  const awsName = fromAws && error.name !== 'Error' ? error.name : undefined;
  const message = error.message || error.name;
  if (message === 'Region is missing')
    return `${message}: pass --region, or set AWS_REGION or a profile's region`;
  return awsName && !message.startsWith(awsName) ? `${awsName}: ${message}` : message;
}
