// A load driver for the chaos tests: posts orders to the api replicas in turn, `concurrency` at a
// time, and remembers every order answered 2xx — the ones the system promised to apply.
export interface Acknowledged {
  productId: string;
  qty: number;
}

export interface LoadResult {
  acknowledged: Map<string, Acknowledged>;
  statuses: Map<number, number>;
  /** Requests that got no HTTP answer at all (connection refused or reset). */
  networkErrors: number;
  /** Slowest answer, to show nothing hung. */
  slowestMs: number;
}

export interface Load {
  stop(): Promise<LoadResult>;
  /** True once a load with a `total` has sent it all. */
  readonly done: boolean;
  /** Orders acknowledged so far. */
  readonly count: number;
  statuses: Map<number, number>;
}

export function startLoad(options: { ports: () => number[]; products: string[]; user: string; concurrency: number; total?: number }): Load {
  const result: LoadResult = { acknowledged: new Map(), statuses: new Map(), networkErrors: 0, slowestMs: 0 };
  let stopping = false;
  let sent = 0;
  const worker = async (w: number) => {
    while (!stopping && (options.total === undefined || sent < options.total)) {
      sent++;
      const ports = options.ports();
      const port = ports[(sent + w) % ports.length]!;
      const productId = options.products[Math.floor(Math.random() * options.products.length)]!;
      const qty = 1 + Math.floor(Math.random() * 3);
      const startedAt = performance.now();
      try {
        const response = await fetch(`http://127.0.0.1:${port}/order-service/${options.user}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ productId, qty, unitPrice: 100 }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await response.json()) as { orderId?: string };
        result.statuses.set(response.status, (result.statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 200 && response.status < 300 && body.orderId) result.acknowledged.set(body.orderId, { productId, qty });
      } catch {
        result.networkErrors++;
        await new Promise((resolve) => setTimeout(resolve, 50)); // a replica restarting: try another
      }
      result.slowestMs = Math.max(result.slowestMs, performance.now() - startedAt);
    }
  };
  let done = false;
  const workers = Array.from({ length: options.concurrency }, (_, w) => worker(w));
  void Promise.all(workers).then(() => (done = true));
  return {
    get done() {
      return done;
    },
    get count() {
      return result.acknowledged.size;
    },
    statuses: result.statuses,
    async stop() {
      stopping = true;
      await Promise.all(workers);
      return result;
    },
  };
}
