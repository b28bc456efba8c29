// Limits that keep one client from hurting the others, per replica: a request rate per identity
// (the token's user claim; the client address when there is none, as with AUTH_MODE=off), 429
// with Retry-After above it. Registered in the API scope after authentication, whose onRequest
// hook runs first, so a request's identity is known when it is counted and a refused token
// (401) is not counted against the user it claims to be.
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

export interface RateLimitOptions {
  /** Requests per window and identity; 0 turns the limit off. */
  max: number;
  windowSeconds: number;
  /** Told of every 429 (for orderstream_api_requests_refused_total). */
  onLimited?: () => void;
}

/** Identities remembered per replica; the least recently seen is forgotten first. */
const TRACKED_IDENTITIES = 20_000;

export const rateKey = (request: FastifyRequest) => (request.identity ? `user:${request.identity.user}` : `address:${request.ip}`);

async function limits(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  if (options.max === 0) return;
  // Documented in the OpenAPI document (429, with Retry-After) on every limited route.
  app.addHook('onRoute', (route) => {
    if (route.schema) route.schema = { ...route.schema, response: { ...(route.schema.response as object), 429: { $ref: 'Error#' } } };
  });
  await app.register(rateLimit, {
    max: options.max,
    timeWindow: options.windowSeconds * 1000,
    cache: TRACKED_IDENTITIES,
    keyGenerator: rateKey,
    errorResponseBuilder: (_request, context) => {
      options.onLimited?.();
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new HttpError(429, `more than ${context.max} requests in ${options.windowSeconds} s; retry in ${seconds} s`, { 'retry-after': String(seconds) });
    },
  });
}

export const rateLimitPlugin = fp(limits, { name: 'order-stream-rate-limit', fastify: '5.x' });
