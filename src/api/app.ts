// The Fastify instances of a role: what every route shares (request ids, error mapping, request
// metrics, draining) comes with an instance; the features are encapsulated plugins. Two instances:
// the public one serves the API (api role only) on PORT; the management one serves health
// (/healthz, /readyz) and /metrics on MANAGEMENT_PORT for the kubelet and Prometheus — never behind
// authentication, never on the public Service (the NetworkPolicy in deploy/k8s/base admits only
// Prometheus to it), which is why its /readyz may name raw dependency errors. Listened on by
// src/service.ts.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/registry.js';
import { errorHandling } from './errors.js';
import { health, type HealthOptions } from './health.js';
import { httpMetrics, metricsEndpoint } from './metrics.js';
import { api, type ApiOptions } from './routes.js';
import { requestId } from './request-id.js';
import { requestLogger } from './request-log.js';

export interface InstanceOptions {
  log: Logger;
  metrics: Metrics;
  bodyLimitBytes: number;
  isDraining: () => boolean;
}

export interface AppOptions extends InstanceOptions {
  api: ApiOptions;
}

export interface ManagementOptions extends InstanceOptions {
  health: HealthOptions;
}

/**
 * Request ids and connection draining for every route of the instance (not encapsulated). The
 * request id (src/api/request-id.ts) is in every log line of the request and echoed back, so a
 * client report can be matched to the logs. While draining, every
 * response closes its connection: keep-alive clients reconnect to another replica instead of
 * holding this one open until their idle timeout.
 */
const requestHeaders = fp(
  async (app: FastifyInstance, { isDraining }: { isDraining: () => boolean }) => {
    // Callback-style hooks here and in the other per-request hooks: an async hook costs every
    // request a promise and a microtask turn (BENCHMARKS.md, "The api's main thread").
    app.addHook('onSend', (request, reply, payload, done) => {
      reply.header('x-request-id', request.id);
      if (isDraining()) reply.header('connection', 'close');
      done(null, payload);
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
    // A caller's X-Request-Id only when it is a short safe token (src/api/request-id.ts).
    requestIdHeader: false,
    genReqId: requestId,
    childLoggerFactory: requestLogger,
    return503OnClosing: true,
  });
  // Awaited: these observe routes as they are added (405 Allow lists, zeroed series), so they are
  // in place before any feature adds one.
  await app.register(errorHandling);
  await app.register(httpMetrics, { metrics: options.metrics });
  await app.register(requestHeaders, { isDraining: options.isDraining });
  return app;
}

/** The public instance of the api role: the API (and its OpenAPI document) only. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = await createInstance(options);
  app.register(api, options.api);
  await app.ready();
  return app;
}

/** The management instance of every role: /healthz, /readyz, /metrics. */
export async function buildManagementApp(options: ManagementOptions): Promise<FastifyInstance> {
  const app = await createInstance(options);
  app.register(health, options.health);
  app.register(metricsEndpoint, { metrics: options.metrics });
  await app.ready();
  return app;
}
