/** Where a command writes: `process.stdout`, `process.stderr`, or a test's capture. */
export interface CliOutput {
  write(text: string): unknown;
  /** Set on a terminal: progress bars are drawn only there. */
  readonly isTTY?: boolean;
  /** A terminal's width: tables keep to it (else to 100 columns). */
  readonly columns?: number;
}

/**
 * The process a command runs in, passed in so that tests can run the CLI in-process: its streams,
 * its environment, and how it exits.
 */
export interface CliIo {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Called with the exit code when a command fails or help is shown. @default nothing is called */
  readonly exit?: (code: number) => void;
  /** The folder commands run in: `sluice dev` writes, and other commands read, its state below it. @default `process.cwd()` */
  readonly cwd?: string;
  /** Ends a command that runs until Ctrl-C (`dev`, `tail`), as Ctrl-C does. @default only Ctrl-C */
  readonly signal?: AbortSignal;
}
