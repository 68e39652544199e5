import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/** How long a service gets to exit after SIGTERM before it is sent SIGKILL. */
export const STOP_GRACE_MS = 5_000;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Tracks a child process so that it is killed if this process exits without stopping it.
 */
export function trackServiceProcess(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const process of running) killQuietly(process.pid, 'SIGKILL');
    });
  }
}

/**
 * Stops a child process by its PID: SIGTERM, then SIGKILL if it has not exited after the grace period.
 *
 * @example
 * ```ts
 * await stopServiceProcess(child);
 * ```
 */
export async function stopServiceProcess(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killQuietly(child.pid, 'SIGTERM');
  const timer = setTimeout(() => killQuietly(child.pid, 'SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

function killQuietly(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Lets this process exit while a started service still runs: the service process and its pipes stop
 * holding the event loop open, and the exit hook kills the service when this process exits. Call it
 * once the service is up.
 */
export function releaseServiceProcess(child: ChildProcess): void {
  child.unref();
  child.channel?.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as Socket | null)?.unref?.();
}
