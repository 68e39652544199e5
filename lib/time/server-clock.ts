/** How fast a machine clock may drift from true time, as a share: a bound learnt at time t widens by this much per millisecond since. */
const DRIFT_PER_MS = 1e-4;
/** The HTTP `Date` header counts whole seconds. */
const DATE_RESOLUTION_MS = 1_000;

/** Where DynamoDB's clock stands now, as far as this process can know. */
export interface ServerTimeBounds {
  /** DynamoDB's clock is at least here (epoch milliseconds). */
  readonly earliest: number;
  /** DynamoDB's clock is at most here (epoch milliseconds). */
  readonly latest: number;
}

/**
 * DynamoDB's clock as seen from this process: an interval that certainly holds it, learnt from the
 * `Date` header of every response a client receives (whole seconds, stamped between the request's
 * sending and its response's arrival). Each response narrows the interval; it widens slowly with
 * time, for the drift of the local clock. Readers and writers of the event log hold their clocks to
 * it, so that a machine clock that is wrong costs delay, never a skipped event (see
 * `docs/late-writes.md`).
 *
 * @example
 * ```ts
 * const clock = serverClockOf(dynamodb);
 * await dynamodb.send(new DescribeTableCommand({ TableName: 'events' }));
 * clock.bounds(); // { earliest, latest }, about a second apart after one response
 * ```
 */
export class ServerClock {
  /** Server time minus `Date.now()` is at least `low` and at most `high`, as of `at`. */
  private low = Number.NEGATIVE_INFINITY;
  private high = Number.POSITIVE_INFINITY;
  private at = 0;

  /**
   * Learns from one response: its `Date` header, and the local times (`Date.now()`) just before the
   * request was sent and just after the response arrived.
   */
  observe(dateHeader: string, sentAt: number, receivedAt: number): void {
    const serverSecond = Date.parse(dateHeader);
    if (!Number.isFinite(serverSecond) || receivedAt < sentAt) return;
    const low = serverSecond - receivedAt;
    const high = serverSecond + DATE_RESOLUTION_MS - sentAt;
    const aged = this.aged(receivedAt);
    const nextLow = Math.max(aged.low, low);
    const nextHigh = Math.min(aged.high, high);
    // Bounds that no longer overlap mean the local clock was stepped: start again from this response.
    [this.low, this.high] = nextLow <= nextHigh ? [nextLow, nextHigh] : [low, high];
    this.at = receivedAt;
  }

  /** DynamoDB's clock now, within bounds; `undefined` before the first response. */
  bounds(now = Date.now()): ServerTimeBounds | undefined {
    if (this.at === 0) return undefined;
    const { low, high } = this.aged(now);
    return { earliest: now + low, latest: now + high };
  }

  private aged(now: number): { low: number; high: number } {
    const drift = Math.abs(now - this.at) * DRIFT_PER_MS;
    return { low: this.low - drift, high: this.high + drift };
  }
}

interface MiddlewareClient {
  readonly middlewareStack: {
    add(middleware: unknown, options: { step: 'deserialize'; name: string; priority: 'low' }): void;
  };
}

const clocks = new WeakMap<object, ServerClock>();

/**
 * The {@link ServerClock} of a DynamoDB client: made, and hooked into the client's middleware stack
 * (one middleware, next to the HTTP request, so that it brackets one attempt), on first use; shared by
 * everything that uses the client.
 *
 * @example
 * ```ts
 * const latest = serverClockOf(dynamodb).bounds()?.latest;
 * ```
 */
export function serverClockOf(client: object): ServerClock {
  let clock = clocks.get(client);
  if (clock) return clock;
  const created = new ServerClock();
  clock = created;
  clocks.set(client, created);
  (client as MiddlewareClient).middlewareStack.add(
    (next: (args: unknown) => Promise<{ response?: { headers?: Record<string, string> } }>) =>
      async (args: unknown) => {
        const sentAt = Date.now();
        const result = await next(args);
        const date = result.response?.headers?.date ?? result.response?.headers?.Date;
        if (typeof date === 'string') created.observe(date, sentAt, Date.now());
        return result;
      },
    { step: 'deserialize', name: 'sluiceServerClock', priority: 'low' },
  );
  return created;
}
