// The Fastify instance of a role: what every route shares (request ids, error mapping, request
// metrics, draining) comes with the instance; the features are encapsulated plugins registered
// in any order — health (/healthz, /readyz), metrics (/metrics) and, for the api role, the API.
// Built here, listened on by src/service.ts. A second instance (a management port) would be built
// with createInstance and given the health and metrics plugins.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/registry.js';
import { errorHandling } from './errors.js';
import { health, type HealthOptions } from './health.js';
import { httpMetrics, metricsEndpoint } from './metrics.js';
import { api, type ApiOptions } from './routes.js';

export interface InstanceOptions {
  log: Logger;
  metrics: Metrics;
  bodyLimitBytes: number;
  isDraining: () => boolean;
}

export interface AppOptions extends InstanceOptions {
  health: HealthOptions;
  /** Absent for the processor-only role, which serves health and metrics only. */
  api?: ApiOptions;
}

/**
 * Request ids and connection draining for every route of the instance (not encapsulated). A
 * caller's X-Request-Id is kept (bounded), else one is made; it is in every log line of the
 * request and echoed back, so a client report can be matched to the logs. While draining, every
 * response closes its connection: keep-alive clients reconnect to another replica instead of
 * holding this one open until their idle timeout.
 */
const requestHeaders = fp(
  async (app: FastifyInstance, { isDraining }: { isDraining: () => boolean }) => {
    app.addHook('onSend', async (request, reply) => {
      reply.header('x-request-id', request.id);
      if (isDraining()) reply.header('connection', 'close');
    });
  },
  { name: 'request-headers' },
);

/** An instance with what every route shares, before any feature is registered. */
export async function createInstance(options: InstanceOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.log as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes,
    // Per-request logs would dominate at thousands of orders per second; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  });
  // Awaited: these observe routes as they are added (405 Allow lists, zeroed series), so they are
  // in place before any feature adds one.
  await app.register(errorHandling);
  await app.register(httpMetrics, { metrics: options.metrics });
  await app.register(requestHeaders, { isDraining: options.isDraining });
  return app;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = await createInstance(options);
  app.register(health, options.health);
  app.register(metricsEndpoint, { metrics: options.metrics });
  if (options.api) app.register(api, options.api);
  await app.ready();
  return app;
}
