// The api role's HTTP API as one encapsulated plugin: its shared schemas and validators, JSON-only
// bodies, the OpenAPI document and UI (/docs), the start-up/shutdown gate, and the order and
// catalog routes. Nothing here leaks to the instance: health and metrics live beside it.
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { strictBodies } from './validation.js';
import { catalogRoutes } from './catalog.js';
import { orderRoutes, type OrderRoutesOptions } from './orders.js';
import { catalogItem, errorBody, order } from './schemas.js';
import type { Gate } from './gate.js';

export interface ApiOptions extends OrderRoutesOptions {
  gate: Gate;
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
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await scope.register(swaggerUi, { routePrefix: '/docs' });
  // The document is readable while starting; the routes it describes wait for the gate.
  await scope.register(async (routes) => {
    routes.addHook('onRequest', options.gate.onRequest);
    await orderRoutes(routes, options);
    await catalogRoutes(routes, options);
  });
}
