// The api role's HTTP API as one encapsulated plugin: its shared schemas and validators, JSON-only
// bodies, the OpenAPI document and UI (/docs), the start-up/shutdown gate, authentication and the
// rule table (src/api/auth), the rate limit, and the order and catalog routes. Nothing here leaks
// to the instance.
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { strictBodies } from './validation.js';
import { catalogRoutes } from './catalog.js';
import { orderRoutes, type OrderRoutesOptions } from './orders.js';
import { catalogItem, errorBody, order } from './schemas.js';
import type { Gate } from './gate.js';
import { authenticationPlugin, type Verifier } from './auth/index.js';
import { rateLimitPlugin, type RateLimitOptions } from './limits.js';
import type { RefusalReason } from '../metrics/registry.js';

export interface ApiOptions extends OrderRoutesOptions {
  gate: Gate;
  /** Undefined: AUTH_MODE=off. */
  verifier: Verifier | undefined;
  rateLimit: RateLimitOptions;
}

export async function api(scope: FastifyInstance, options: ApiOptions): Promise<void> {
  scope.addSchema(errorBody);
  scope.addSchema(order);
  scope.addSchema(catalogItem);
  strictBodies(scope);
  // Only JSON bodies: Fastify would otherwise hand text/plain to the schema and answer 400, not 415.
  scope.removeContentTypeParser('text/plain');
  await scope.register(swagger, {
    openapi: {
      info: { title: 'order-stream', version: '1', description: 'Orders and catalog stock, consistent across replicas through Kafka' },
      // Used by the routes when AUTH_MODE=jwt (src/api/auth/plugin.ts): an OAuth 2.0 access token (JWT).
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await scope.register(swaggerUi, { routePrefix: '/docs' });
  // The document is readable while starting; the routes it describes wait for the gate.
  await scope.register(async (routes) => {
    routes.addHook('onRequest', options.gate.onRequest);
    // Before the routes: authenticate and authorise (rules.ts), then count the caller's requests.
    const refused = (reason: RefusalReason) => options.metrics.requestsRefused.inc({ reason });
    await routes.register(authenticationPlugin, { verifier: options.verifier, onRefused: refused });
    await routes.register(rateLimitPlugin, { ...options.rateLimit, onLimited: () => refused('rate_limited') });
    await orderRoutes(routes, options);
    await catalogRoutes(routes, options);
  });
}
