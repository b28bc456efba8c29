// Who may do what, as data: one row per API route, each listing the grants that let a caller
// through. The authentication plugin refuses to register a route that has no row (fail closed),
// the README's rule table is checked against this one, and test/unit/rules.test.ts walks it.
import type { Identity } from './verify.js';

export type Grant =
  /** The token's user claim equals the route's :userId — a user's own orders. */
  | { to: 'owner' }
  /** The token carries this OAuth scope. */
  | { to: 'scope'; scope: string }
  /** Any valid token (the caller is known, and rate-limited as such). */
  | { to: 'any-token' };

export interface Rule {
  method: 'GET' | 'POST' | 'PUT';
  route: string;
  allow: readonly Grant[];
}

export const SCOPES = {
  /** Support staff acting for a user: every user's order routes. */
  ordersAdmin: 'orders:admin',
  /** Operators loading the catalog: create, reprice and restock products. */
  catalogWrite: 'catalog:write',
} as const;

const owner: Grant = { to: 'owner' };
const scope = (name: string): Grant => ({ to: 'scope', scope: name });
const anyToken: Grant = { to: 'any-token' };

export const RULES: readonly Rule[] = [
  { method: 'POST', route: '/order-service/:userId/orders', allow: [owner, scope(SCOPES.ordersAdmin)] },
  { method: 'GET', route: '/order-service/:userId/orders', allow: [owner, scope(SCOPES.ordersAdmin)] },
  { method: 'GET', route: '/order-service/:userId/orders/:orderId', allow: [owner, scope(SCOPES.ordersAdmin)] },
  { method: 'POST', route: '/order-service/:userId/orders/:orderId/cancel', allow: [owner, scope(SCOPES.ordersAdmin)] },
  // Catalog reads need a token too (not anonymous): every request then has an identity to limit.
  { method: 'GET', route: '/catalog-service/catalogs', allow: [anyToken] },
  { method: 'GET', route: '/catalog-service/catalogs/:productId', allow: [anyToken] },
  { method: 'PUT', route: '/catalog-service/catalogs/:productId', allow: [scope(SCOPES.catalogWrite)] },
  { method: 'POST', route: '/catalog-service/catalogs/:productId/stock', allow: [scope(SCOPES.catalogWrite)] },
];

/** The rule of a route; HEAD is answered like GET (Fastify adds HEAD to every GET route). */
export function ruleFor(method: string, route: string, rules: readonly Rule[] = RULES): Rule | undefined {
  const asked = method === 'HEAD' ? 'GET' : method;
  return rules.find((rule) => rule.method === asked && rule.route === route);
}

export type Decision = { allowed: true } | { allowed: false; message: string; scope: string | undefined };

/** Whether `identity` may call the route of `rule` with these path parameters. */
export function decide(rule: Rule, identity: Pick<Identity, 'user' | 'scopes'>, params: Readonly<Record<string, string | undefined>>): Decision {
  for (const grant of rule.allow) {
    if (grant.to === 'any-token') return { allowed: true };
    if (grant.to === 'owner' && params.userId !== undefined && params.userId === identity.user) return { allowed: true };
    if (grant.to === 'scope' && identity.scopes.has(grant.scope)) return { allowed: true };
  }
  const scopes = rule.allow.flatMap((g) => (g.to === 'scope' ? [g.scope] : []));
  const ownerAllowed = rule.allow.some((g) => g.to === 'owner');
  const needs = scopes.length ? `scope ${scopes.join(' or ')}` : 'a valid token';
  const message = ownerAllowed
    ? `only the user in the path (the token's user claim) or a token with ${needs} may do this`
    : `${rule.method} ${rule.route} needs ${needs}`;
  return { allowed: false, message, scope: scopes.length ? scopes.join(' ') : undefined };
}
