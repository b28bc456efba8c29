// Lets a request wait for the processor's verdict on its event (an order, a cancellation, a
// restock) without querying the database: one LISTEN connection per api process receives every
// verdict (the codec is src/domain/verdict.ts; the processor sends them inside its transaction)
// and wakes the requests waiting on those event ids. If the connection drops, waiting requests
// time out into 202 PENDING — the order itself is safe in Kafka — and the listener reconnects
// with the service's retry policy (src/retry.ts).
// At most `maxWaiters` requests wait at once: beyond that a request is not held (it answers 202
// PENDING at once), so slow verdicts cannot pile up open requests and memory without bound.
import pg from 'pg';
import type { Logger } from '../logger.js';
import { retry } from '../retry.js';
import { unpackVerdicts, VERDICT_CHANNEL, type Verdict } from '../domain/verdict.js';

type Wake = (verdict: Verdict | undefined) => void;

export class VerdictWaiter {
  private readonly waiting = new Map<string, Set<Wake>>();
  private client: pg.Client | undefined;
  private readonly closed = new AbortController();
  private connected = false;
  /** Requests waiting now (several may wait on one id). */
  private active = 0;
  /** Requests that asked to wait and were answered at once because maxWaiters were waiting. */
  refused = 0;

  constructor(
    private readonly databaseUrl: string,
    private readonly log: Logger,
    private readonly maxWaiters = Number.POSITIVE_INFINITY,
  ) {}

  /** One attempt at the LISTEN connection (start-up retries it); rejects when PostgreSQL is unreachable. */
  async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'order-stream-verdicts' });
    client.on('notification', (message) => this.wake(message.channel, message.payload));
    // Without a listener an error would crash the process; 'end' follows it and reconnects.
    client.on('error', (err) => this.log.warn({ err: err.message }, 'verdict listener lost its connection'));
    try {
      await client.connect();
      await client.query(`LISTEN ${VERDICT_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed.signal.aborted) return void (await client.end().catch(() => undefined));
    this.client = client;
    this.connected = true;
    client.once('end', () => {
      this.connected = false;
      if (!this.closed.signal.aborted) void this.reconnect();
    });
  }

  get listening(): boolean {
    return this.connected;
  }

  /**
   * Resolves with the verdict on event `id`, or undefined after timeoutMs. Register before
   * producing the event, so a verdict that arrives before the produce call returns is not missed.
   * Undefined when maxWaiters requests wait already: the caller answers without waiting.
   */
  wait(id: string, timeoutMs: number): { verdict: Promise<Verdict | undefined>; cancel: () => void } | undefined {
    if (this.active >= this.maxWaiters) {
      this.refused++;
      return undefined;
    }
    this.active++;
    let settled = false;
    let resolveVerdict!: Wake;
    const verdict = new Promise<Verdict | undefined>((resolve) => (resolveVerdict = resolve));
    const settle: Wake = (v) => {
      if (settled) return;
      settled = true;
      this.active--;
      resolveVerdict(v);
    };
    const wakers = this.waiting.get(id) ?? new Set<Wake>();
    this.waiting.set(id, wakers);
    const remove = () => {
      wakers.delete(waker);
      if (wakers.size === 0 && this.waiting.get(id) === wakers) this.waiting.delete(id);
    };
    const timer = setTimeout(() => {
      remove();
      settle(undefined);
    }, timeoutMs);
    const waker: Wake = (v) => {
      clearTimeout(timer);
      settle(v);
    };
    wakers.add(waker);
    const cancel = () => {
      clearTimeout(timer);
      remove();
      settle(undefined);
    };
    return { verdict, cancel };
  }

  /** Requests still waiting (for metrics and shutdown). */
  get waitingCount(): number {
    return this.waiting.size;
  }

  async stop(): Promise<void> {
    this.closed.abort();
    // Waiting requests answer 202 PENDING now rather than hold up shutdown.
    for (const wakers of this.waiting.values()) for (const wake of wakers) wake(undefined);
    this.waiting.clear();
    await this.client?.end().catch(() => undefined);
  }

  private wake(channel: string, payload: string | undefined): void {
    if (channel !== VERDICT_CHANNEL || !payload || this.waiting.size === 0) return;
    for (const verdict of unpackVerdicts(payload)) {
      const wakers = this.waiting.get(verdict.id);
      if (!wakers) continue;
      this.waiting.delete(verdict.id);
      for (const wake of wakers) wake(verdict);
    }
  }

  private async reconnect(): Promise<void> {
    await retry(() => this.listen(), {
      what: 'verdict listener',
      signal: this.closed.signal,
      onRetry: ({ err, attempt, delayMs }) => this.log.warn({ err: err.message, attempt, delayMs }, 'verdict listener cannot reconnect yet'),
    }).catch(() => undefined); // Stopped: shutting down
  }
}
