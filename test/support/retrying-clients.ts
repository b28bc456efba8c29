// Clients that do what the API asks of them: every order carries an Idempotency-Key, and a request
// that failed (503) or got no answer (connection refused or reset, timeout) is sent again with the
// same key and body — to whichever replica is up — until it is answered 2xx.
export interface KeyedOrder {
  key: string;
  productId: string;
  qty: number;
}

export interface RetryResult {
  /** key → the orderId of its 2xx answer */
  orderIds: Map<string, string>;
  attempts: number;
  /** Requests sent again after a 503 or no answer. */
  retries: number;
  /** Requests that got no HTTP answer (the replica died under them, or was down). */
  unanswered: number;
  statuses: Map<number, number>;
  /** Keys given up on (a 4xx, or still failing after `maxAttempts`). */
  failed: string[];
}

export interface RetryingClients {
  /** Resolves once every key is answered 2xx or given up on. */
  finished(): Promise<RetryResult>;
  /** Keys answered 2xx so far. */
  readonly answered: number;
  /** Requests that got no answer so far. */
  readonly unanswered: number;
}

export function startRetryingClients(options: { ports: () => number[]; user: string; orders: KeyedOrder[]; concurrency: number; maxAttempts?: number }): RetryingClients {
  const result: RetryResult = { orderIds: new Map(), attempts: 0, retries: 0, unanswered: 0, statuses: new Map(), failed: [] };
  const maxAttempts = options.maxAttempts ?? 200;
  let next = 0;

  const place = async (order: KeyedOrder) => {
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) result.retries++;
      if (attempt > maxAttempts) return void result.failed.push(order.key);
      result.attempts++;
      const ports = options.ports();
      const port = ports[(result.attempts + attempt) % ports.length]!;
      try {
        const response = await fetch(`http://127.0.0.1:${port}/order-service/${options.user}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': order.key },
          body: JSON.stringify({ productId: order.productId, qty: order.qty, unitPrice: 100 }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await response.json()) as { orderId?: string };
        result.statuses.set(response.status, (result.statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 200 && response.status < 300 && body.orderId) {
          result.orderIds.set(order.key, body.orderId);
          return;
        }
        if (response.status !== 503) return void result.failed.push(order.key); // a 4xx: retrying cannot help
      } catch {
        result.unanswered++;
      }
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
    }
  };

  const worker = async () => {
    while (next < options.orders.length) await place(options.orders[next++]!);
  };
  const workers = Promise.all(Array.from({ length: options.concurrency }, worker));
  return {
    get answered() {
      return result.orderIds.size;
    },
    get unanswered() {
      return result.unanswered;
    },
    async finished() {
      await workers;
      return result;
    },
  };
}
