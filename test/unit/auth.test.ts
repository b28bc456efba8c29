// Authentication and the rule table without servers: the api's Fastify app built with a real
// verifier over a key file (keys generated here), requests injected route by route. A request the
// rules let through reaches validation and gets its 400 (each probe below is invalid on purpose),
// so 400 means "authorised" and 401/403 mean "stopped before any handler".
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { buildApp } from '../../src/api/app.js';
import { Gate } from '../../src/api/gate.js';
import { authenticationPlugin } from '../../src/api/auth/plugin.js';
import { bearerToken, challenge } from '../../src/api/auth/plugin.js';
import { keyFile, jwtProblems, type JwtSettings } from '../../src/api/auth/keys.js';
import { RULES, decide } from '../../src/api/auth/rules.js';
import { cachedVerifier, tokenVerifier, scopesOf, type Identity, type Verifier } from '../../src/api/auth/verify.js';
import { requestId } from '../../src/api/request-id.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics/registry.js';
import type { Pool } from '../../src/db/pool.js';
import type { Publisher } from '../../src/api/publish.js';
import type { IncomingMessage } from 'node:http';

const ISSUER = 'https://issuer.unit.test';
const AUDIENCE = 'order-stream-api';
const ORDER = '0f8fad5b-d9cb-469f-a165-70867728950e';

/** One invalid request per route: authorised callers get the 400 of its validation. */
const PROBES = {
  'POST /order-service/:userId/orders': (user: string) => ({ method: 'POST', url: `/order-service/${user}/orders`, payload: {} }),
  'GET /order-service/:userId/orders': (user: string) => ({ method: 'GET', url: `/order-service/${user}/orders?limit=0` }),
  'GET /order-service/:userId/orders/:orderId': (user: string) => ({ method: 'GET', url: `/order-service/${user}/orders/not-a-uuid` }),
  'POST /order-service/:userId/orders/:orderId/cancel': (user: string) => ({ method: 'POST', url: `/order-service/${user}/orders/not-a-uuid/cancel`, payload: {} }),
  'GET /catalog-service/catalogs': () => ({ method: 'GET', url: '/catalog-service/catalogs?limit=0' }),
  'GET /catalog-service/catalogs/:productId': () => ({ method: 'GET', url: '/catalog-service/catalogs/bad%20id' }),
  'PUT /catalog-service/catalogs/:productId': () => ({ method: 'PUT', url: `/catalog-service/catalogs/P-1`, payload: {} }),
  'POST /catalog-service/catalogs/:productId/stock': () => ({ method: 'POST', url: '/catalog-service/catalogs/P-1/stock', payload: {} }),
} as const;
type Route = keyof typeof PROBES;

/** The rule table as the README states it, written out: who gets through (400) and who not. */
const EXPECTED: Record<Route, { owner: number; other: number; admin: number; writer: number; anonymous: number }> = {
  'POST /order-service/:userId/orders': { owner: 400, other: 403, admin: 400, writer: 403, anonymous: 401 },
  'GET /order-service/:userId/orders': { owner: 400, other: 403, admin: 400, writer: 403, anonymous: 401 },
  'GET /order-service/:userId/orders/:orderId': { owner: 400, other: 403, admin: 400, writer: 403, anonymous: 401 },
  'POST /order-service/:userId/orders/:orderId/cancel': { owner: 400, other: 403, admin: 400, writer: 403, anonymous: 401 },
  'GET /catalog-service/catalogs': { owner: 400, other: 400, admin: 400, writer: 400, anonymous: 401 },
  'GET /catalog-service/catalogs/:productId': { owner: 400, other: 400, admin: 400, writer: 400, anonymous: 401 },
  'PUT /catalog-service/catalogs/:productId': { owner: 403, other: 403, admin: 403, writer: 400, anonymous: 401 },
  'POST /catalog-service/catalogs/:productId/stock': { owner: 403, other: 403, admin: 403, writer: 400, anonymous: 401 },
};

async function buildApi(verifier: Verifier | undefined): Promise<FastifyInstance> {
  const metrics = createMetrics(['api']);
  // Never reached: every probe is refused or fails validation before a handler runs.
  const unused = {} as Pool & Publisher;
  const gate = new Gate(() => undefined);
  gate.open();
  return buildApp({
    log: createLogger('silent'), metrics, bodyLimitBytes: 16384, isDraining: () => false,
    api: { gate, pool: unused, publisher: unused, metrics, maxWaitSeconds: 1, verifier, rateLimit: { max: 0, windowSeconds: 60 } },
  });
}

describe('authentication and the rule table', () => {
  let dir: string;
  let privateKey: CryptoKey;
  let app: FastifyInstance;
  const sign = (claims: Record<string, unknown>, key: CryptoKey = privateKey, alg = 'ES256') =>
    new SignJWT(claims).setProtectedHeader({ alg }).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m').sign(key);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auth-'));
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    writeFileSync(join(dir, 'public.pem'), await exportSPKI(pair.publicKey));
    writeFileSync(join(dir, 'private.pem'), await exportPKCS8(pair.privateKey));
    writeFileSync(join(dir, 'private.jwks.json'), JSON.stringify({ keys: [await exportJWK(pair.privateKey)] }));
    writeFileSync(join(dir, 'public.jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] }));
    const verifier = tokenVerifier({ keys: keyFile(join(dir, 'public.pem')), issuer: ISSUER, audience: AUDIENCE, userClaim: 'sub', clockSkewSeconds: 30 });
    app = await buildApi(verifier);
  });
  after(async () => app?.close());

  it('has a route for every rule, and the rule table covers the routes it protects, route by route', async () => {
    expect(RULES.map((r) => `${r.method} ${r.route}`).sort()).to.deep.equal(Object.keys(PROBES).sort());
    for (const rule of RULES) expect(app.hasRoute({ method: rule.method, url: rule.route }), `${rule.method} ${rule.route}`).to.equal(true);
    const tokens = {
      owner: await sign({ sub: 'alice' }),
      other: await sign({ sub: 'mallory' }),
      admin: await sign({ sub: 'support-1', scope: 'openid orders:admin' }),
      writer: await sign({ sub: 'ops-1', scp: ['catalog:write'] }),
    };
    for (const [route, probe] of Object.entries(PROBES) as Array<[Route, (user: string) => { method: string; url: string; payload?: object }]>) {
      for (const [who, want] of Object.entries(EXPECTED[route])) {
        const token = tokens[who as keyof typeof tokens];
        const { method, url, payload } = probe('alice');
        const response = await app.inject({ method: method as 'GET', url, ...(payload ? { payload } : {}), headers: token ? { authorization: `Bearer ${token}` } : {} });
        expect(response.statusCode, `${route} as ${who}: ${response.body}`).to.equal(want);
        if (want === 403) expect(response.headers['www-authenticate'], `${route} as ${who}`).to.match(/^Bearer realm="order-stream", error="insufficient_scope"/);
        if (want === 401) expect(response.headers['www-authenticate'], `${route} as ${who}`).to.equal('Bearer realm="order-stream"');
        expect(response.json(), `${route} as ${who}`).to.have.keys(want === 400 ? ['error', 'message', 'field'] : ['error', 'message']);
      }
    }
  });

  it('refuses to register an API route without a rule (fail closed)', async () => {
    const scope = Fastify();
    let failed: Error | undefined;
    try {
      await scope.register(async (api) => {
        await api.register(authenticationPlugin, { verifier: undefined });
        api.get('/order-service/:userId/secrets', async () => 'open');
      });
      await scope.ready();
    } catch (err) {
      failed = err as Error;
    }
    await scope.close();
    expect(failed?.message).to.match(/GET \/order-service\/:userId\/secrets has no authorisation rule/);
  });

  it('with AUTH_MODE=off checks nothing: every probe reaches validation', async () => {
    const open = await buildApi(undefined);
    for (const probe of Object.values(PROBES)) {
      const { method, url, payload } = probe('alice') as { method: string; url: string; payload?: object };
      expect((await open.inject({ method: method as 'GET', url, ...(payload ? { payload } : {}) })).statusCode, url).to.equal(400);
    }
    await open.close();
  });

  it('decides owner, scope and any-token grants from the identity', () => {
    const [createOrder] = RULES;
    const alice = { user: 'alice', scopes: new Set<string>() };
    expect(decide(createOrder!, alice, { userId: 'alice' })).to.deep.equal({ allowed: true });
    expect(decide(createOrder!, alice, { userId: 'Alice' })).to.include({ allowed: false, scope: 'orders:admin' });
    expect(decide(createOrder!, { user: 'x', scopes: new Set(['orders:admin']) }, { userId: 'alice' })).to.deep.equal({ allowed: true });
    expect(scopesOf({ scope: 'a b  c', scp: ['d', 5] })).to.deep.equal(new Set(['a', 'b', 'c', 'd']));
  });

  it('reads the bearer credential and writes RFC 6750 challenges', () => {
    expect(bearerToken('Bearer abc.def.ghi')).to.equal('abc.def.ghi');
    expect(bearerToken('bearer  abc ')).to.equal('abc');
    expect(bearerToken('Basic dXNlcg==')).to.equal(undefined);
    expect(bearerToken('Bearer')).to.equal(undefined);
    expect(bearerToken(undefined)).to.equal(undefined);
    expect(challenge()).to.equal('Bearer realm="order-stream"');
    expect(challenge('invalid_token', 'a "quoted" \\ text\n')).to.equal('Bearer realm="order-stream", error="invalid_token", error_description="a  quoted    text "');
    expect(challenge('insufficient_scope', 'no', 'catalog:write')).to.equal('Bearer realm="order-stream", error="insufficient_scope", error_description="no", scope="catalog:write"');
  });

  it('takes a PEM or a public JWKS as key file, and refuses private keys and missing files as configuration errors', async () => {
    const verify = (file: string) => tokenVerifier({ keys: keyFile(join(dir, file)), issuer: ISSUER, audience: AUDIENCE, userClaim: 'sub', clockSkewSeconds: 0 });
    expect(await verify('public.jwks.json')(await sign({ sub: 'alice', scope: 'catalog:write' }))).to.deep.include({ user: 'alice', scopes: new Set(['catalog:write']) });
    expect(() => keyFile(join(dir, 'private.pem'))).to.throw(ConfigError, /private key/);
    expect(() => keyFile(join(dir, 'private.jwks.json'))).to.throw(ConfigError, /private or symmetric/);
    expect(() => keyFile(join(dir, 'missing.pem'))).to.throw(ConfigError, /cannot be read: ENOENT/);
    const settings: JwtSettings = { mode: 'jwt', jwksUrl: undefined, publicKeyFile: undefined, issuer: '', audience: '', userClaim: 'sub', clockSkewSeconds: 30, jwksCooldownSeconds: 30 };
    expect(jwtProblems(settings).join('\n')).to.match(/AUTH_JWKS_URL or AUTH_PUBLIC_KEY_FILE[\s\S]*AUTH_ISSUER[\s\S]*AUTH_AUDIENCE/);
    // A token signed with an RS256 key does not verify against the ES256 public key.
    const rsa = await generateKeyPair('RS256');
    let refusal: unknown;
    try {
      await verify('public.pem')(await sign({ sub: 'alice' }, rsa.privateKey, 'RS256'));
    } catch (err) {
      refusal = err;
    }
    expect((refusal as Error).constructor.name).to.equal('TokenRejected');
  });

  it('checks a token once until it expires (cache), never caching a refusal', async () => {
    let now = 1000;
    const calls: string[] = [];
    const verify: Verifier = async (token) => {
      calls.push(token);
      if (token === 'bad') throw new Error('refused');
      return { user: token, scopes: new Set(), expiresAt: 1010 } satisfies Identity;
    };
    const cached = cachedVerifier(verify, 2, () => now);
    await cached('a');
    await cached('a');
    expect(calls).to.deep.equal(['a']);
    for (let i = 0; i < 2; i++) await cached('bad').catch(() => undefined);
    expect(calls).to.deep.equal(['a', 'bad', 'bad']);
    now = 1010; // at exp: checked again (and refused there, had it expired beyond the skew)
    await cached('a');
    expect(calls).to.deep.equal(['a', 'bad', 'bad', 'a']);
    await cached('b');
    await cached('c'); // the cache holds 2: 'a', the oldest, is forgotten
    now = 1000;
    await cached('a');
    expect(calls.slice(-3)).to.deep.equal(['b', 'c', 'a']);
  });

  it('keeps a well-formed caller X-Request-Id and replaces anything else', () => {
    const id = (header?: string) => requestId({ headers: header === undefined ? {} : { 'x-request-id': header } } as IncomingMessage);
    expect(id('0af7651916cd43dd8448eb211c80319c')).to.equal('0af7651916cd43dd8448eb211c80319c');
    expect(id('req:1.2_3-4')).to.equal('req:1.2_3-4');
    for (const bad of ['', 'a'.repeat(129), 'two words', 'line\nbreak', '"quoted"', 'ü']) expect(id(bad), JSON.stringify(bad)).to.match(/^[0-9a-f]{8}-[0-9a-f-]{27}$/);
    expect(id()).to.match(/^[0-9a-f]{8}-/);
  });

  it('defaults to AUTH_MODE=jwt in production and off in development and test; refuses other modes', () => {
    const required = { KAFKA_BROKERS: 'k:9092', SCHEMA_REGISTRY_URL: 'http://r:8081', DATABASE_URL: 'postgres://db/x' };
    expect(loadConfig({ ...required, NODE_ENV: 'production' }).auth.mode).to.equal('jwt');
    expect(loadConfig({ ...required, NODE_ENV: 'development' }).auth.mode).to.equal('off');
    expect(loadConfig({ ...required, NODE_ENV: 'test' }).auth.mode).to.equal('off');
    expect(() => loadConfig({ ...required, AUTH_MODE: 'basic' })).to.throw(ConfigError, /AUTH_MODE must be jwt or off/);
    expect(() => loadConfig({ ...required, AUTH_MODE: 'jwt', AUTH_JWKS_URL: 'ftp://x/keys' })).to.throw(ConfigError, /AUTH_JWKS_URL must be an http\(s\) URL/);
    expect(() => loadConfig({ ...required, AUTH_MODE: 'jwt', AUTH_JWKS_URL: 'https://x/keys', AUTH_PUBLIC_KEY_FILE: '/k.pem' })).to.throw(ConfigError, /not both/);
    const jwt = loadConfig({ ...required, NODE_ENV: 'production', AUTH_JWKS_URL: 'https://idp.example/jwks', AUTH_ISSUER: 'https://idp.example/', AUTH_AUDIENCE: 'orders' }).auth;
    expect(jwt).to.deep.include({ mode: 'jwt', jwksUrl: 'https://idp.example/jwks', userClaim: 'sub', clockSkewSeconds: 30 });
  });
});

describe('order-stream token (development tokens)', () => {
  it('signs tokens the api verifies with the settings it prints, and refuses to run in production', async () => {
    const { devKeys, devToken, runToken, DEV_AUDIENCE, DEV_ISSUER } = await import('../../src/cli/token.js');
    const dir = mkdtempSync(join(tmpdir(), 'dev-auth-'));
    const keys = await devKeys(dir);
    expect(await devKeys(dir), 'made once, then reused').to.deep.equal(keys);
    const verifier = tokenVerifier({ keys: keyFile(keys.publicKeyFile), issuer: DEV_ISSUER, audience: DEV_AUDIENCE, userClaim: 'sub', clockSkewSeconds: 0 });
    const identity = await verifier(await devToken(keys, 'user-1', ['catalog:write', 'orders:admin'], 60));
    expect(identity).to.deep.include({ user: 'user-1', scopes: new Set(['catalog:write', 'orders:admin']) });
    expect(identity.expiresAt - Date.now() / 1000).to.be.within(50, 60);
    expect(await runToken(['--user', 'user-1', '--key-dir', dir], { NODE_ENV: 'production' })).to.equal(2);
  });
});

describe('the OpenAPI document with AUTH_MODE=jwt', () => {
  it('declares the bearer scheme on every API route, with 401 and 403 responses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-doc-'));
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    writeFileSync(join(dir, 'public.pem'), await exportSPKI(publicKey));
    const app = await buildApi(tokenVerifier({ keys: keyFile(join(dir, 'public.pem')), issuer: ISSUER, audience: AUDIENCE, userClaim: 'sub', clockSkewSeconds: 30 }));
    const doc = (await app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>; components: { securitySchemes: object } };
    expect(doc.components.securitySchemes).to.deep.equal({ bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } });
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ name: `${method} ${path}`, op })));
    expect(operations).to.have.length(RULES.length);
    for (const { name, op } of operations) {
      expect(op.security, name).to.deep.equal([{ bearer: [] }]);
      expect(op.responses, name).to.include.keys('401', '403');
    }
    await app.close();
  });
});
