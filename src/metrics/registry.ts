// Prometheus metrics of one process. Names follow Prometheus conventions (orderstream_ prefix,
// base units, _total for counters); labels are bounded (never a userId or orderId).
import client from 'prom-client';

export function createMetrics(role: string) {
  const registry = new client.Registry();
  registry.setDefaultLabels({ role });
  client.collectDefaultMetrics({ register: registry, prefix: 'orderstream_' });
  return { registry };
}

export type Metrics = ReturnType<typeof createMetrics>;
