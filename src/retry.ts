// The one retry policy of order-stream: capped exponential backoff with jitter. Start-up steps
// (migrations, topics, the producer, the schema id, LISTEN, the consumer) retry with it forever,
// the processor's transient failures (database, broker, registry) retry with it forever, and the
// deploy step (`order-stream migrate`) retries with it for a bounded time, then fails.
// Retrying forever is the point for long-running roles: giving up would mean exiting, and an
// exiting replica crash-loops for minutes after the dependency is back.

export interface Backoff {
  /** The first delay; each further attempt doubles it. */
  initialMs: number;
  /** The cap. */
  maxMs: number;
}

/** Start-up and the deploy step: a dependency that is down stays down for seconds to minutes. */
export const DEPENDENCY_BACKOFF: Backoff = { initialMs: 500, maxMs: 15_000 };
/** The processor's batch steps: deadlocks and broker hiccups clear within milliseconds. */
export const TRANSIENT_BACKOFF: Backoff = { initialMs: 100, maxMs: 5000 };

/** Retrying ended because the caller is stopping; the work did not complete. */
export class Stopped extends Error {
  override readonly name = 'Stopped';
}

export interface Failure {
  err: Error;
  attempt: number;
  /** The wait before the next attempt. */
  delayMs: number;
}

export interface RetryOptions {
  /** What is retried, in messages: "batch apply", "migrations". */
  what: string;
  backoff?: Backoff;
  /** Polled after each failure and each wait: true ends the retrying with Stopped. */
  isStopping?: () => boolean;
  /** Aborting it ends the wait between attempts at once, with Stopped. */
  signal?: AbortSignal;
  /** Give up after this long (the deploy step); the last error is thrown. Absent: never. */
  giveUpAfterMs?: number;
  /** Errors that waiting cannot fix (a 4xx from the registry): thrown at once, prefixed with `what`. */
  isPermanent?: (err: Error) => boolean;
  /** Called on each failure about to be retried: log it, count it. */
  onRetry?: (failure: Failure) => void;
}

/** The delay before attempt `attempt + 1`: doubling from initialMs, capped, jittered into [half, full]. */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const full = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(full * (0.5 + random() / 2));
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function retry<T>(work: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const backoff = options.backoff ?? DEPENDENCY_BACKOFF;
  const stopping = () => options.signal?.aborted === true || options.isStopping?.() === true;
  const deadline = options.giveUpAfterMs === undefined ? Infinity : Date.now() + options.giveUpAfterMs;
  for (let attempt = 1; ; attempt++) {
    if (stopping()) throw new Stopped(`${options.what}: stopped while retrying`);
    try {
      return await work(attempt);
    } catch (caught) {
      const err = caught instanceof Error ? caught : new Error(String(caught));
      if (stopping()) throw new Stopped(`${options.what}: stopped while retrying`);
      if (options.isPermanent?.(err)) throw new Error(`${options.what}: ${err.message}`, { cause: err });
      const delayMs = backoffDelay(attempt, backoff);
      if (Date.now() + delayMs > deadline) throw new Error(`${options.what}: gave up after ${attempt} attempts: ${err.message}`, { cause: err });
      options.onRetry?.({ err, attempt, delayMs });
      await sleep(delayMs, options.signal);
    }
  }
}

/**
 * Wraps a logging function so it runs at most once per intervalMs; calls in between are counted
 * and the count is passed to the next call that runs. Per-attempt log lines stay readable when
 * many callers retry at once (every processor lane on one database outage).
 */
export function atMostEvery<A extends unknown[]>(intervalMs: number, log: (suppressed: number, ...args: A) => void): (...args: A) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (...args: A) => {
    const now = Date.now();
    if (now - last < intervalMs) {
      suppressed++;
      return;
    }
    last = now;
    log(suppressed, ...args);
    suppressed = 0;
  };
}
