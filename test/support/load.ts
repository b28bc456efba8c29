// A load driver for the chaos tests: posts orders to the api replicas in turn, `concurrency` at a
// time, and remembers every order answered 2xx — the ones the system promised to apply. Between
// orders it also reads (a user's orders, a product) and writes the catalog (a scratch product no
// invariant looks at), so an outage shows how every kind of route answers: a dependency that is
// down must give 503 with Retry-After and a JSON body naming it, never a 500.
export interface Acknowledged {
  productId: string;
  qty: number;
  /** When the request was sent (performance.now()), to tell what was accepted during an outage. */
  sentAt?: number;
}

/** A cancellation or a restock answered 2xx: durable in Kafka, so it must be applied. */
export interface Command {
  kind: 'cancel' | 'restock';
  productId: string;
  /** The order a cancellation names. */
  orderId?: string;
  /** Units a restock adds. */
  add?: number;
}

export interface LoadResult {
  acknowledged: Map<string, Acknowledged>;
  /** Cancellations and restocks answered 2xx, by cancellationId / restockId. */
  commands: Map<string, Command>;
  /** Answers to order POSTs, by status. */
  statuses: Map<number, number>;
  /** Answers to the reads and catalog writes, by status. */
  readStatuses: Map<number, number>;
  /** 503 answers (orders and reads) by the dependency their body named. */
  unavailable: Map<string, number>;
  /** 503 answers without Retry-After or without a dependency: each one is a defect. */
  malformed503: string[];
  /** Requests that got no HTTP answer at all (connection refused or reset). */
  networkErrors: number;
  /** Slowest answer, to show nothing hung. */
  slowestMs: number;
  /** Longest time without any order acknowledged, while the load ran: the outage clients saw. */
  longestGapMs: number;
}

export interface Load {
  stop(): Promise<LoadResult>;
  /** True once a load with a `total` has sent it all. */
  readonly done: boolean;
  /** Orders acknowledged so far. */
  readonly count: number;
  /** The orders acknowledged so far (the map keeps growing until stop()). */
  readonly acknowledged: ReadonlyMap<string, Acknowledged>;
  statuses: Map<number, number>;
  readStatuses: Map<number, number>;
  unavailable: Map<string, number>;
}

export interface LoadOptions {
  ports: () => number[];
  products: string[];
  user: string;
  concurrency: number;
  total?: number;
  /** Every n-th request of a client is a read or a catalog write (0: orders only). */
  readEvery?: number;
  /** The product the catalog writes replace; by default `${user}-SCRATCH`. */
  scratchProduct?: string;
  /** Shares of the order slots that cancel an acknowledged order or restock a product instead. */
  mix?: { cancel: number; restock: number };
}

const bump = <K>(counts: Map<K, number>, key: K) => counts.set(key, (counts.get(key) ?? 0) + 1);

export function startLoad(options: LoadOptions): Load {
  const result: LoadResult = {
    acknowledged: new Map(), commands: new Map(), statuses: new Map(), readStatuses: new Map(), unavailable: new Map(),
    malformed503: [], networkErrors: 0, slowestMs: 0, longestGapMs: 0,
  };
  const readEvery = options.readEvery ?? 4;
  const scratch = options.scratchProduct ?? `${options.user}-SCRATCH`;
  let stopping = false;
  let sent = 0;
  let requests = 0;
  let lastAcknowledgedAt = performance.now();

  const check503 = async (response: Response, what: string): Promise<unknown> => {
    const body = (await response.json()) as { dependency?: string };
    if (response.status === 503) {
      bump(result.unavailable, body.dependency ?? 'none');
      const retryAfter = Number(response.headers.get('retry-after'));
      if (!body.dependency || !(retryAfter > 0)) result.malformed503.push(`${what}: retry-after ${response.headers.get('retry-after')}, body ${JSON.stringify(body)}`);
    }
    return body;
  };

  const order = async (port: number) => {
    const productId = options.products[Math.floor(Math.random() * options.products.length)]!;
    const qty = 1 + Math.floor(Math.random() * 3);
    const sentAt = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/order-service/${options.user}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId, qty, unitPrice: 100 }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await check503(response, 'POST order')) as { orderId?: string };
    bump(result.statuses, response.status);
    if (response.status >= 200 && response.status < 300 && body.orderId) {
      result.acknowledged.set(body.orderId, { productId, qty, sentAt });
      if (options.mix) cancellable.push([body.orderId, { productId, qty }]);
      const now = performance.now();
      result.longestGapMs = Math.max(result.longestGapMs, now - lastAcknowledgedAt);
      lastAcknowledgedAt = now;
    }
  };

  // Each acknowledged order is cancelled at most once, with an Idempotency-Key; the productId in the
  // body routes the cancellation even when the order is not applied yet.
  const cancellable: Array<[string, Acknowledged]> = [];
  const command = async (port: number, kind: 'cancel' | 'restock') => {
    const target = kind === 'cancel' ? cancellable.splice(Math.floor(Math.random() * cancellable.length), 1)[0] : undefined;
    if (kind === 'cancel' && !target) return order(port);
    const productId = target ? target[1].productId : options.products[Math.floor(Math.random() * options.products.length)]!;
    const add = 1 + Math.floor(Math.random() * 5);
    const [path, body] = target
      ? [`/order-service/${options.user}/orders/${target[0]}/cancel`, { productId }]
      : [`/catalog-service/catalogs/${productId}/stock`, { add }];
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `${kind}-${target?.[0] ?? Math.random()}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const answer = (await check503(response, `POST ${kind}`)) as { cancellationId?: string; restockId?: string };
    bump(result.statuses, response.status);
    const id = answer.cancellationId ?? answer.restockId;
    if (response.status >= 200 && response.status < 300 && id) {
      result.commands.set(id, target ? { kind, productId, orderId: target[0] } : { kind, productId, add });
    } else if (target) {
      cancellable.push(target); // not acknowledged: may be tried again later
    }
  };

  const read = async (port: number, n: number) => {
    const base = `http://127.0.0.1:${port}`;
    const product = options.products[n % options.products.length]!;
    const [method, path, body] =
      n % 3 === 0 ? ['GET', `/order-service/${options.user}/orders?limit=10`, undefined]
      : n % 3 === 1 ? ['GET', `/catalog-service/catalogs/${product}`, undefined]
      : ['PUT', `/catalog-service/catalogs/${scratch}`, JSON.stringify({ productName: 'scratch', unitPrice: 100, stock: n })];
    const response = await fetch(`${base}${path}`, {
      method,
      ...(body ? { headers: { 'content-type': 'application/json' }, body } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    await check503(response, `${method} ${path}`);
    bump(result.readStatuses, response.status);
  };

  const worker = async (w: number) => {
    while (!stopping && (options.total === undefined || sent < options.total)) {
      const n = ++requests;
      const ports = options.ports();
      const port = ports[(n + w) % ports.length]!;
      const isRead = readEvery > 0 && n % readEvery === 0;
      if (!isRead) sent++;
      const startedAt = performance.now();
      try {
        const dice = Math.random();
        const kind = !options.mix ? undefined : dice < options.mix.cancel ? 'cancel' : dice < options.mix.cancel + options.mix.restock ? 'restock' : undefined;
        await (isRead ? read(port, n / readEvery) : kind ? command(port, kind) : order(port));
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
    acknowledged: result.acknowledged,
    statuses: result.statuses,
    readStatuses: result.readStatuses,
    unavailable: result.unavailable,
    async stop() {
      stopping = true;
      await Promise.all(workers);
      result.longestGapMs = Math.max(result.longestGapMs, performance.now() - lastAcknowledgedAt);
      return result;
    },
  };
}

/** Answers with this status, orders and reads together. */
export const answered = (result: Pick<LoadResult, 'statuses' | 'readStatuses'>, status: number) =>
  (result.statuses.get(status) ?? 0) + (result.readStatuses.get(status) ?? 0);
