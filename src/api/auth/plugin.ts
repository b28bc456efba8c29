// The authentication plugin of the API scope (RFC 6750 bearer tokens): on every request, before
// the body is read or validated, the token is verified and the route's rule (src/api/auth/rules.ts)
// decided — so a refused request never reaches a handler, the database or Kafka. 401 with a
// `WWW-Authenticate: Bearer` challenge for a missing or bad token, 403 insufficient_scope for a
// good token without the right. With AUTH_MODE=off (no verifier) nothing is checked, but every
// route must still have its rule, so switching auth on cannot leave a route open by omission.
import fp from 'fastify-plugin';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { dependencyUnavailable, HttpError } from '../errors.js';
import { decide, ruleFor, RULES, type Rule } from './rules.js';
import { KeysUnavailable, TokenRejected, type Identity, type Verifier } from './verify.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller; undefined with AUTH_MODE=off. */
    identity: Identity | undefined;
  }
}

export interface AuthenticationOptions {
  /** Undefined: AUTH_MODE=off. */
  verifier: Verifier | undefined;
  rules?: readonly Rule[];
  /** Told of every refusal (for orderstream_api_requests_refused_total). */
  onRefused?: (reason: 'missing_token' | 'invalid_token' | 'insufficient_scope' | 'keys_unavailable') => void;
}

const REALM = 'order-stream';

/** error_description allows printable ASCII without `"` and `\` (RFC 6750 §3). */
const quoted = (text: string) => text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, ' ').slice(0, 200);

export function challenge(error?: 'invalid_token' | 'insufficient_scope', description?: string, scope?: string): string {
  const parts = [`realm="${REALM}"`];
  if (error) parts.push(`error="${error}"`);
  if (description) parts.push(`error_description="${quoted(description)}"`);
  if (scope) parts.push(`scope="${quoted(scope)}"`);
  return `Bearer ${parts.join(', ')}`;
}

/** The token of `Authorization: Bearer <token>`; undefined when there is no bearer credential. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^\s*Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

const key = (method: string, url: string) => `${method === 'HEAD' ? 'GET' : method} ${url}`;

async function authentication(app: FastifyInstance, options: AuthenticationOptions): Promise<void> {
  const rules = options.rules ?? RULES;
  const byRoute = new Map<string, Rule>();
  const { verifier } = options;
  app.addHook('onRoute', (route) => {
    for (const method of ([] as string[]).concat(route.method)) {
      const rule = ruleFor(method, route.url, rules);
      // A programming error, caught by every test that builds the app: fail closed, loudly.
      if (!rule) throw new Error(`${method} ${route.url} has no authorisation rule in src/api/auth/rules.ts`);
      byRoute.set(key(method, route.url), rule);
    }
    // The OpenAPI document says so: a bearer token (the `bearer` scheme of src/api/app.ts), 401, 403.
    if (verifier && route.schema) {
      route.schema = { ...route.schema, security: [{ bearer: [] }], response: { ...(route.schema.response as object), 401: { $ref: 'Error#' }, 403: { $ref: 'Error#' } } };
    }
  });
  app.decorateRequest('identity', undefined);
  if (!verifier) return;

  const refused = options.onRefused ?? (() => undefined);
  app.addHook('onRequest', async (request) => {
    const rule = byRoute.get(key(request.method, request.routeOptions.url ?? ''));
    if (!rule) throw new HttpError(404, `no route ${request.method} ${request.url.split('?')[0]}`);
    const token = bearerToken(request.headers.authorization);
    // No credential at all: the challenge carries no error code (RFC 6750 §3.1).
    if (token === undefined) {
      refused('missing_token');
      throw new HttpError(401, 'a bearer token is required (Authorization: Bearer <token>)', { 'www-authenticate': challenge() });
    }
    request.identity = await identify(verifier, token, request.log, refused);
    const decision = decide(rule, request.identity, request.params as Record<string, string | undefined>);
    if (!decision.allowed) {
      refused('insufficient_scope');
      throw new HttpError(403, decision.message, { 'www-authenticate': challenge('insufficient_scope', decision.message, decision.scope) });
    }
  });
}

async function identify(verifier: Verifier, token: string, log: FastifyBaseLogger, refused: NonNullable<AuthenticationOptions['onRefused']>): Promise<Identity> {
  try {
    return await verifier(token);
  } catch (err) {
    if (err instanceof TokenRejected) {
      refused('invalid_token');
      throw new HttpError(401, `invalid bearer token: ${err.message}`, { 'www-authenticate': challenge('invalid_token', err.message) });
    }
    if (err instanceof KeysUnavailable) {
      refused('keys_unavailable');
      log.warn({ err: err.message }, 'token not verified: the key set is unavailable');
      throw dependencyUnavailable('jwks', "the token issuer's keys cannot be fetched now; retry later", 5);
    }
    throw err;
  }
}

/** Registered inside the API scope: its hooks and the `identity` decoration apply to that scope. */
export const authenticationPlugin = fp(authentication, { name: 'order-stream-authentication', fastify: '5.x' });
