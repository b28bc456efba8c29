// Every error leaves as JSON {error, message[, field | dependency]} with the right status; a client
// mistake is never a 500, a dependency that is down is a 503 naming it (never a 500), and no
// response carries a stack trace or an internal message.
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { STATUS_CODES } from 'node:http';
import { isDatabaseUnavailable } from '../db/errors.js';

/** What a request may wait on; a 503 names the one that failed. */
export type Dependency = 'kafka' | 'postgres' | 'registry' | 'jwks';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly field?: string,
    /** Why a command was refused (409), in the domain's words: ALREADY_CANCELLED, NOT_ACCEPTED. */
    readonly reason?: string,
    /** The dependency that is down (503 only). */
    readonly dependency?: Dependency,
  ) {
    super(message);
  }
}

export const badRequest = (field: string, message: string) => new HttpError(400, message, {}, field);

/** 503 with Retry-After: `dependency` cannot serve the request now; the same request may succeed later. */
export const dependencyUnavailable = (dependency: Dependency, message: string, retryAfterSeconds = 1) =>
  new HttpError(503, message, { 'retry-after': String(retryAfterSeconds) }, undefined, undefined, dependency);

/** Seconds a client should wait before retrying a request that failed on PostgreSQL. */
const DATABASE_RETRY_AFTER_SECONDS = 2;

function fieldOf(err: FastifyError): string | undefined {
  const first = err.validation?.[0];
  if (!first) return undefined;
  const params = first.params as { missingProperty?: string; additionalProperty?: string };
  const path = first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const leaf = params.missingProperty ?? params.additionalProperty;
  return [path, leaf].filter(Boolean).join('.') || undefined;
}

/**
 * 405 with `Allow` for a known path asked with a method it does not have (a 404 would tell the
 * client the resource does not exist). Routes are collected as they are registered; the check
 * runs in the not-found handler, so a request that found its route pays nothing for it.
 */
function allowedMethods(app: FastifyInstance): (path: string) => string[] {
  const routes: Array<{ pattern: RegExp; methods: Set<string> }> = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/:[^/]+/g, '[^/]+')}/?$`);
    const methods = ([] as string[]).concat(route.method);
    const known = routes.find((r) => r.pattern.source === pattern.source);
    if (known) methods.forEach((m) => known.methods.add(m));
    else routes.push({ pattern, methods: new Set(methods) });
  });
  return (path) => [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => [...r.methods]))].sort();
}

/**
 * The error mapping of the whole instance (fastify-plugin: not encapsulated), so every feature's
 * errors leave alike. It sees the routes registered after it: src/api/app.ts registers it with the
 * instance, before any feature.
 */
export const errorHandling = fp(async (app: FastifyInstance) => {
  const allowed = allowedMethods(app);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const methods = allowed(path);
    if (methods.length > 0) {
      return reply.code(405).header('allow', methods.join(', ')).send({ error: 'Method Not Allowed', message: `${request.method} is not allowed on ${path}` });
    }
    return reply.code(404).send({ error: 'Not Found', message: `no route ${request.method} ${path}` });
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).headers(err.headers).send({
        error: STATUS_CODES[err.statusCode],
        message: err.message,
        ...(err.field ? { field: err.field } : {}),
        ...(err.reason ? { reason: err.reason } : {}),
        ...(err.dependency ? { dependency: err.dependency } : {}),
      });
    }
    // Reads and catalog writes need PostgreSQL: refused, dropped or restarting connections are an
    // outage to wait out, not a server bug.
    if (isDatabaseUnavailable(err)) {
      request.log.warn({ err: err.message, code: err.code }, 'postgres unavailable');
      return reply
        .code(503)
        .header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS))
        .send({ error: 'Service Unavailable', message: 'the database is unavailable; retry later', dependency: 'postgres' });
    }
    if (err.validation) {
      const field = fieldOf(err);
      const where = err.validationContext ?? 'request';
      return reply.code(400).send({ error: 'Bad Request', message: `${where}${field ? ` ${field}` : ''} ${err.validation[0]?.message ?? 'is invalid'}`, ...(field ? { field } : {}) });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors: body too large (413), media type (415), malformed JSON (400).
      return reply.code(status).send({ error: STATUS_CODES[status], message: err.message });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'Internal Server Error', message: 'the server could not handle this request' });
  });
}, { name: 'error-handling' });
