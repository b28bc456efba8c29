// The Fastify application: plugins with clear boundaries — OpenAPI, error mapping, health, and
// (api role only) the order and catalog routes. Built here, listened on by src/service.ts.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from '../logger.js';
import { errorHandling } from './errors.js';
import { strictBodies } from './validation.js';
import { initialiseRoute, statusClass, type Metrics } from '../metrics/registry.js';
import { healthRoutes, type HealthOptions } from './health.js';
import { catalogRoutes } from './catalog.js';
import { orderRoutes, type OrderRoutesOptions } from './orders.js';
import { catalogItem, errorBody, order } from './schemas.js';

export interface AppOptions {
  log: Logger;
  metrics: Metrics;
  bodyLimitBytes: number;
  health: HealthOptions;
  /** Absent for the processor-only role, which serves health and metrics only. */
  api?: OrderRoutesOptions;
  extraRoutes?: (app: FastifyInstance) => void;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.log as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes,
    // Per-request logs would dominate at thousands of orders per second; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // A caller's X-Request-Id is kept (bounded), else one is made; it is in every log line of the
    // request and echoed back, so a client report can be matched to the logs.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  });
  app.addSchema(errorBody);
  app.addSchema(order);
  app.addSchema(catalogItem);
  strictBodies(app);
  errorHandling(app);
  // Only JSON bodies: Fastify would otherwise hand text/plain to the schema and answer 400, not 415.
  app.removeContentTypeParser('text/plain');

  // The OpenAPI document describes the API, so only the api role builds it (and loads the UI).
  if (options.api) {
    await app.register(swagger, {
      openapi: {
        info: { title: 'order-stream', version: '1', description: 'Orders and catalog stock, consistent across replicas through Kafka' },
      },
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  }

  // While draining, every response closes its connection: keep-alive clients reconnect to another
  // replica instead of holding this one open until their idle timeout.
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (options.health.isDraining()) reply.header('connection', 'close');
  });
  // Routes registered from here on (health, metrics, the API; not the docs UI) start with zero
  // series per status class, so dashboards show 0 errors rather than no data.
  app.addHook('onRoute', (route) => initialiseRoute(options.metrics, route.method, route.url));
  // Route patterns, not URLs, as labels: cardinality stays bounded whatever clients send.
  app.addHook('onResponse', async (request, reply) => {
    options.metrics.httpRequestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_class: statusClass(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  healthRoutes(app, options.health);
  options.extraRoutes?.(app);
  if (options.api) {
    const api = options.api;
    await app.register(async (scope) => {
      await orderRoutes(scope, api);
      await catalogRoutes(scope, { pool: api.pool, publisher: api.publisher, maxWaitSeconds: api.maxWaitSeconds });
    });
  }
  return app;
}
