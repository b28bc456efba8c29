// HTTP metrics: GET /metrics (an encapsulated plugin, for this instance or a management one), and
// the request duration of every route of the instance (httpMetrics, not encapsulated).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { initialiseRoute, statusClass, type Metrics } from '../metrics/registry.js';

export async function metricsEndpoint(app: FastifyInstance, { metrics }: { metrics: Metrics }): Promise<void> {
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
}

/**
 * Every route starts with zero series per status class, so dashboards show 0 errors rather than no
 * data (routes hidden from the OpenAPI document, the docs UI's, excepted); route patterns, not
 * URLs, are the labels, so cardinality stays bounded whatever clients send. It sees the routes
 * registered after it: src/api/app.ts registers it with the instance, before any feature.
 */
export const httpMetrics = fp(
  async (app: FastifyInstance, { metrics }: { metrics: Metrics }) => {
    app.addHook('onRoute', (route) => {
      if (!(route.schema as { hide?: boolean } | undefined)?.hide) initialiseRoute(metrics, route.method, route.url);
    });
    // prom-client hashes a label set on every observe(); the series a request lands in is looked up
    // by one string instead, its labelled child made once (bounded: routes × methods × 5 classes).
    const series = new Map<string, { observe: (seconds: number) => void }>();
    app.addHook('onResponse', (request, reply, done) => {
      const method = request.method;
      const route = request.routeOptions.url ?? 'unmatched';
      const status_class = statusClass(reply.statusCode);
      const name = `${method} ${route} ${status_class}`;
      let child = series.get(name);
      if (!child) series.set(name, (child = metrics.httpRequestDuration.labels({ method, route, status_class })));
      child.observe(reply.elapsedTime / 1000);
      done();
    });
  },
  { name: 'http-metrics' },
);
