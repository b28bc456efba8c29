// Prometheus metrics of one process, defined in one place so names and labels stay consistent
// with grafana/ dashboards (a test checks every dashboard query against what a running role
// exports). Conventions: orderstream_ prefix, base units (seconds, bytes), _total for counters,
// and only bounded labels — route patterns, status classes, outcomes, partitions; never an id.
// Every labelled counter and histogram starts with its known label values at zero, so a healthy
// system shows 0 errors, 0 dead letters and 0 retries (not "No data") and error ratios are defined.
// This module imports nothing above it (only the domain's verdict vocabulary). The api's routes
// and hooks update their series directly; the processor and the Kafka delivery tracker know no
// metrics and report through callbacks, which the composition root (src/wiring.ts) connects to
// ./observers.ts.
import client from 'prom-client';
import { OUTCOMES, OUTCOMES_OF } from '../domain/verdict.js';
import { BatchHistogram } from './batch-histogram.js';

export type Metrics = ReturnType<typeof createMetrics>;

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Order to verdict spans a produce, the consumer's wait and a batch: up to minutes under a backlog. */
const VERDICT_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

// The label values each role can emit, zero-initialised at start (the roles emit only these).
/** orderstream_orders_received_total{outcome} (api) */
export const ORDER_OUTCOMES = ['acknowledged', 'replayed', 'invalid', 'unavailable'] as const;
const VERDICTS = OUTCOMES.map((o) => o.toLowerCase());
/** orderstream_order_verdicts_waited_total{verdict} (api, Prefer: wait): a verdict or a timeout */
export const WAITED_VERDICTS: readonly string[] = [...VERDICTS, 'timeout'];
/**
 * orderstream_processor_messages_total{event, outcome} (processor): each event type with the
 * verdicts it can come to; a dead letter has no type anyone could read (event="unknown").
 */
export const MESSAGE_SERIES: ReadonlyArray<{ event: string; outcome: string }> = [
  ...Object.entries(OUTCOMES_OF).flatMap(([event, outcomes]) => outcomes.map((o) => ({ event, outcome: o.toLowerCase() }))),
  { event: 'unknown', outcome: 'dlq' },
];
/** orderstream_processor_retries_total{operation}: the processor's retried operations. */
export const RETRY_OPERATIONS = ['schema lookup', 'dead-letter produce', 'batch apply'] as const;
/**
 * orderstream_api_requests_refused_total{reason} (api): requests stopped before any handler — no
 * or a bad bearer token, a token without the right, the issuer's keys unavailable, over the rate limit.
 */
export const REFUSAL_REASONS = ['missing_token', 'invalid_token', 'insufficient_scope', 'keys_unavailable', 'rate_limited'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];
/** orderstream_http_request_duration_seconds{status_class} initialised for every route. */
const STATUS_CLASSES = ['2xx', '4xx', '5xx'] as const;

/** Readers for the gauges computed at scrape time; the roles fill in the ones they have. */
export interface ScrapeReaders {
  dbPool?: () => { total: number; idle: number; waiting: number };
  dependencies?: () => Promise<Record<string, boolean>>;
  lag?: () => Array<{ topic: string; partition: number; lag: number }>;
  /** Partitions this process holds, per topic and group it consumes (0 while it holds none). */
  assignedPartitions?: () => Array<{ topic: string; group: string; partitions: number }>;
  verdictWaiters?: () => number;
  /** Prefer: wait requests answered at once because API_MAX_WAITERS were waiting (since start). */
  verdictWaitsCapped?: () => number;
}

/** The metrics of a process running `roles` (api, processor or both), labelled role="api+processor". */
export function createMetrics(roles: readonly string[]) {
  const scrape: ScrapeReaders = {};
  const registry = new client.Registry();
  registry.setDefaultLabels({ role: roles.join('+') });
  client.collectDefaultMetrics({ register: registry, prefix: 'orderstream_' });
  const registers = [registry];

  const metrics = {
    registry,
    scrape,

    // api
    httpRequestDuration: new client.Histogram({
      name: 'orderstream_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern and status class',
      labelNames: ['method', 'route', 'status_class'] as const,
      buckets: SECONDS,
      registers,
    }),
    ordersReceived: new client.Counter({
      name: 'orderstream_orders_received_total',
      help: 'Order POSTs by outcome: acknowledged (durable in Kafka), replayed (idempotent retry of a stored order), invalid (4xx), unavailable (503)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    orderVerdictsWaited: new client.Counter({
      name: 'orderstream_order_verdicts_waited_total',
      help: 'Prefer: wait requests by what they got: the verdict (accepted, rejected, cancelled, stocked, refused, duplicate) or timeout',
      labelNames: ['verdict'] as const,
      registers,
    }),
    requestsRefused: new client.Counter({
      name: 'orderstream_api_requests_refused_total',
      help: 'API requests refused before any handler: missing_token, invalid_token (401), insufficient_scope (403), keys_unavailable (503), rate_limited (429)',
      labelNames: ['reason'] as const,
      registers,
    }),
    verdictWaitsCapped: new client.Counter({
      name: 'orderstream_verdict_waits_capped_total',
      help: 'Prefer: wait requests answered 202 PENDING at once because API_MAX_WAITERS requests were waiting',
      registers,
      collect() {
        // The waiter counts; the counter shows its total (reset + inc keeps it a counter).
        if (!scrape.verdictWaitsCapped) return;
        this.reset();
        this.inc(scrape.verdictWaitsCapped());
      },
    }),
    verdictWaiters: new client.Gauge({
      name: 'orderstream_verdict_waiters',
      help: 'Requests waiting for a verdict right now',
      registers,
      collect() {
        if (scrape.verdictWaiters) this.set(scrape.verdictWaiters());
      },
    }),

    // producer (orders from the api, dead letters from the processor)
    producerDelivery: new client.Histogram({
      name: 'orderstream_producer_delivery_duration_seconds',
      help: 'Time from produce to broker acknowledgement (acks=all)',
      buckets: SECONDS,
      registers,
    }),
    producerErrors: new client.Counter({ name: 'orderstream_producer_errors_total', help: 'Messages Kafka did not acknowledge', registers }),

    // processor
    // One value per order: observed a batch at a time (batch-histogram.ts).
    verdictLatency: new BatchHistogram(
      'orderstream_order_verdict_latency_seconds',
      "Seconds from an order's creation by the api (its createdAt) to its verdict committed by the processor; duplicates excluded",
      VERDICT_SECONDS,
      registers,
    ),
    batchMessages: new client.Histogram({
      name: 'orderstream_processor_batch_messages',
      help: 'Messages per applied batch',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
    applyDuration: new client.Histogram({
      name: 'orderstream_processor_apply_duration_seconds',
      help: 'Duration of one batch transaction, retries included',
      buckets: SECONDS,
      registers,
    }),
    messages: new client.Counter({
      name: 'orderstream_processor_messages_total',
      help: 'Consumed messages by event type (OrderCreated, OrderCancelled, StockAdded; unknown for dead letters) and outcome: accepted, rejected, cancelled, stocked, refused, duplicate, dlq',
      labelNames: ['event', 'outcome'] as const,
      registers,
    }),
    retries: new client.Counter({
      name: 'orderstream_processor_retries_total',
      help: 'Transient failures retried, by operation',
      labelNames: ['operation'] as const,
      registers,
    }),
    consumerLag: new client.Gauge({
      name: 'orderstream_consumer_lag_messages',
      help: 'Messages behind the end of each assigned partition',
      labelNames: ['topic', 'partition'] as const,
      registers,
      collect() {
        if (!scrape.lag) return;
        this.reset();
        for (const { topic, partition, lag } of scrape.lag()) this.set({ topic, partition: String(partition) }, lag);
      },
    }),
    assignedPartitions: new client.Gauge({
      name: 'orderstream_consumer_assigned_partitions',
      help: 'Partitions assigned to this processor, by topic and consumer group (0 while none: a standby or not joined)',
      labelNames: ['topic', 'group'] as const,
      registers,
      collect() {
        if (!scrape.assignedPartitions) return;
        this.reset();
        for (const { topic, group, partitions } of scrape.assignedPartitions()) this.set({ topic, group }, partitions);
      },
    }),

    // dependencies
    dbPool: new client.Gauge({
      name: 'orderstream_db_pool_connections',
      help: 'PostgreSQL pool connections by state: total, idle, waiting (requests queued for one)',
      labelNames: ['state'] as const,
      registers,
      collect() {
        if (!scrape.dbPool) return;
        const { total, idle, waiting } = scrape.dbPool();
        this.set({ state: 'total' }, total);
        this.set({ state: 'idle' }, idle);
        this.set({ state: 'waiting' }, waiting);
      },
    }),
    dependencyUp: new client.Gauge({
      name: 'orderstream_dependency_up',
      help: '1 when the dependency answered its last readiness check, else 0',
      labelNames: ['dependency'] as const,
      registers,
      async collect() {
        if (!scrape.dependencies) return;
        for (const [dependency, up] of Object.entries(await scrape.dependencies())) this.set({ dependency }, up ? 1 : 0);
      },
    }),
  };

  if (roles.includes('api')) {
    for (const outcome of ORDER_OUTCOMES) metrics.ordersReceived.inc({ outcome }, 0);
    for (const verdict of WAITED_VERDICTS) metrics.orderVerdictsWaited.inc({ verdict }, 0);
    for (const reason of REFUSAL_REASONS) metrics.requestsRefused.inc({ reason }, 0);
  }
  if (roles.includes('processor')) {
    for (const labels of MESSAGE_SERIES) metrics.messages.inc(labels, 0);
    for (const operation of RETRY_OPERATIONS) metrics.retries.inc({ operation }, 0);
  }
  return metrics;
}

/**
 * Zero series of a route as it is registered (every role serves /healthz, /readyz, /metrics), so
 * its error rate is 0 rather than absent. HEAD routes Fastify derives from GET ones are skipped.
 */
export function initialiseRoute(metrics: Metrics, methods: string | readonly string[], route: string): void {
  for (const method of typeof methods === 'string' ? [methods] : methods) {
    if (method === 'HEAD') continue;
    for (const status_class of STATUS_CLASSES) metrics.httpRequestDuration.zero({ method, route, status_class });
  }
}

export const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;
