/** A running sample of this process's resident set size. */
export interface PeakRss {
  /** Stops sampling and returns the peak in bytes. */
  stop(): number;
}

/**
 * Samples `process.memoryUsage().rss` every `intervalMs` and, at the end, takes the larger of that
 * peak and the operating system's own high-water mark (`resourceUsage().maxRSS`, in KiB).
 *
 * @example
 * ```ts
 * const rss = samplePeakRss();
 * await work();
 * console.log(rss.stop());
 * ```
 */
export function samplePeakRss(intervalMs = 50): PeakRss {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
    },
  };
}
