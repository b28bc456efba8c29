// Prometheus metrics of one process, defined in one place so names and labels stay consistent
// with grafana/ dashboards (a test checks every dashboard query against what a running role
// exports). Conventions: orderstream_ prefix, base units (seconds, bytes), _total for counters,
// and only bounded labels — route patterns, status classes, outcomes, partitions; never an id.
import client from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Readers for the gauges computed at scrape time; the roles fill in the ones they have. */
export interface ScrapeReaders {
  dbPool?: () => { total: number; idle: number; waiting: number };
  dependencies?: () => Promise<Record<string, boolean>>;
  lag?: () => Array<{ topic: string; partition: number; lag: number }>;
  assignedPartitions?: () => number;
  verdictWaiters?: () => number;
}

export function createMetrics(role: string) {
  const scrape: ScrapeReaders = {};
  const registry = new client.Registry();
  registry.setDefaultLabels({ role });
  client.collectDefaultMetrics({ register: registry, prefix: 'orderstream_' });
  const registers = [registry];

  return {
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
      help: 'Prefer: wait requests by what they got: accepted, rejected, timeout',
      labelNames: ['verdict'] as const,
      registers,
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
      help: 'Consumed messages by outcome: accepted, rejected, cancelled, stocked, refused, duplicate, dlq',
      labelNames: ['outcome'] as const,
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
      help: 'Partitions assigned to this processor',
      registers,
      collect() {
        if (scrape.assignedPartitions) this.set(scrape.assignedPartitions());
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
}

export const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;
