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
    app.addHook('onResponse', async (request, reply) => {
      metrics.httpRequestDuration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_class: statusClass(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  },
  { name: 'http-metrics' },
);
