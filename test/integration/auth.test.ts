// Who may do what, on the real stack: an api with AUTH_MODE=jwt trusting a test issuer (its own
// key pairs and a JWKS served on loopback), a processor, the real Kafka and PostgreSQL. Refused
// requests must leave nothing behind: the topic's end offsets are compared before and after.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { eventually, putProducts, testBed, type TestBed } from '../support/fixtures.js';
import { signingKey, TestIssuer } from '../support/tokens.js';
import { startedService, type RunningService } from '../support/service.js';
import type { Config } from '../../src/config/index.js';
import type { Producer } from '../../src/kafka/clients.js';

const json = { 'content-type': 'application/json' };
// Bodies are checked field by field; `any` keeps those assertions readable.
const read = async (response: Response | Promise<Response>): Promise<any> => (await response).json();

/** One sample of a role's /metrics (labels as written, e.g. `{reason="invalid_token",role="api"}`). */
async function sample(managementPort: number, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${managementPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name}{`)));
  return line === undefined ? NaN : Number(line.split(' ').at(-1));
}

/** The end offset of every partition of `topic`: what was ever produced to it. */
async function endOffsets(producer: Producer, topic: string, partitions: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: partitions }, (_, partition) =>
      new Promise<number>((resolve, reject) =>
        producer.queryWatermarkOffsets(topic, partition, 5000, (err, offsets) => (err ? reject(err) : resolve(offsets.highOffset))),
      ),
    ),
  );
}

describe('authentication and authorisation (AUTH_MODE=jwt, real stack)', function () {
  let issuer: TestIssuer;
  let bed: TestBed;
  let api: RunningService;
  let processor: RunningService;
  const services: RunningService[] = [];
  const url = (svc: RunningService, path: string) => `http://127.0.0.1:${svc.port}${path}`;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const start = async (config: Config, roles: Array<'api' | 'processor'>) => {
    const svc = await startedService(config, roles);
    services.push(svc);
    return svc;
  };
  const offsets = () => endOffsets(bed.producer, bed.config.kafka.ordersTopic, bed.config.kafka.partitions);

  before(async () => {
    issuer = await TestIssuer.start();
    // Cooldown 0: an unknown kid refetches the JWKS at once (the rotation test below).
    bed = await testBed(3, { ...issuer.settings(), AUTH_JWKS_COOLDOWN_SECONDS: '0' });
    [api, processor] = await Promise.all([start(bed.config, ['api']), start(bed.config, ['processor'])]);
    await eventually('processor ready', async () => (await fetch(`http://127.0.0.1:${processor.managementPort}/readyz`)).status, (s) => s === 200);
  });
  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await bed?.close();
    await issuer?.close();
  });

  it("lets a user place, list, read and cancel their own orders, and orders:admin act for them", async () => {
    const user = `${bed.tag}-alice`;
    const product = `${bed.tag}-P1`;
    await putProducts(bed.pool, { [product]: 10 });
    const token = await issuer.token({ user });
    const placed = await fetch(url(api, `/order-service/${user}/orders`), { method: 'POST', headers: { ...json, ...bearer(token), prefer: 'wait=10' }, body: JSON.stringify({ productId: product, qty: 2, unitPrice: 100 }) });
    expect(placed.status).to.equal(201);
    const order = await read(placed);
    expect(order).to.include({ userId: user, status: 'ACCEPTED' });
    const list = await read(fetch(url(api, `/order-service/${user}/orders`), { headers: bearer(token) }));
    expect(list.map((o: { orderId: string }) => o.orderId)).to.deep.equal([order.orderId]);
    const one = await fetch(url(api, `/order-service/${user}/orders/${order.orderId}`), { headers: bearer(token) });
    expect(one.status).to.equal(200);

    const admin = await issuer.token({ user: `${bed.tag}-support`, scope: 'orders:admin' });
    const cancelled = await fetch(url(api, `/order-service/${user}/orders/${order.orderId}/cancel`), { method: 'POST', headers: { ...bearer(admin), prefer: 'wait=10' } });
    expect(cancelled.status, 'support staff cancel for the user').to.equal(200);
    expect(await read(cancelled)).to.include({ status: 'CANCELLED', userId: user });
    expect((await read(fetch(url(api, `/catalog-service/catalogs/${product}`), { headers: bearer(token) }))).stock).to.equal(10);
  });

  it("refuses another user's orders (create, list, read, cancel) with 403 and produces nothing", async () => {
    const victim = `${bed.tag}-victim`;
    const product = `${bed.tag}-P2`;
    await putProducts(bed.pool, { [product]: 10 });
    const own = await issuer.token({ user: victim });
    const order = await read(fetch(url(api, `/order-service/${victim}/orders`), { method: 'POST', headers: { ...json, ...bearer(own), prefer: 'wait=10' }, body: JSON.stringify({ productId: product, qty: 1, unitPrice: 100 }) }));
    expect(order.status).to.equal('ACCEPTED');

    const before = await offsets();
    const mallory = await issuer.token({ user: `${bed.tag}-mallory`, scope: 'catalog:write' });
    const attempts = [
      fetch(url(api, `/order-service/${victim}/orders`), { headers: bearer(mallory) }),
      fetch(url(api, `/order-service/${victim}/orders/${order.orderId}`), { headers: bearer(mallory) }),
      fetch(url(api, `/order-service/${victim}/orders/${order.orderId}/cancel`), { method: 'POST', headers: { ...json, ...bearer(mallory) }, body: JSON.stringify({ productId: product }) }),
      fetch(url(api, `/order-service/${victim}/orders`), { method: 'POST', headers: { ...json, ...bearer(mallory) }, body: JSON.stringify({ productId: product, qty: 1, unitPrice: 100 }) }),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.status, response.url).to.equal(403);
      expect(response.headers.get('www-authenticate')).to.match(/^Bearer realm="order-stream", error="insufficient_scope", error_description="[^"]+", scope="orders:admin"$/);
      expect(await read(response)).to.include({ error: 'Forbidden' });
    }
    expect(await offsets(), 'no event produced by a refused request').to.deep.equal(before);
    const stored = await bed.pool.query('SELECT status FROM orders WHERE order_id = $1', [order.orderId]);
    expect(stored.rows[0].status).to.equal('ACCEPTED');
  });

  it('refuses missing, expired, not-yet-valid, foreign, forged and tampered tokens with 401 invalid_token', async () => {
    const user = `${bed.tag}-bob`;
    const path = url(api, `/order-service/${user}/orders`);
    const missing = await fetch(path);
    expect(missing.status).to.equal(401);
    // RFC 6750 §3.1: no error code when the request carries no credential.
    expect(missing.headers.get('www-authenticate')).to.equal('Bearer realm="order-stream"');
    expect(await read(missing)).to.include({ error: 'Unauthorized' });
    const basic = await fetch(path, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.headers.get('www-authenticate')).to.equal('Bearer realm="order-stream"');

    const stranger = await signingKey('key-1'); // same kid as the published key, another key pair
    const unknownKid = await signingKey('key-unknown');
    const forged: Record<string, string> = {
      expired: await issuer.token({ user, expiresIn: -120 }),
      'not yet valid': await issuer.token({ user, notBefore: 120 }),
      'wrong issuer': await issuer.token({ user, issuer: 'https://elsewhere.example' }),
      'wrong audience': await issuer.token({ user, audience: 'another-service' }),
      'unknown kid': await issuer.token({ user, key: unknownKid }),
      'signed by another key': await issuer.token({ user, key: stranger }),
      tampered: await issuer.tampered(`${bed.tag}-someone`, user),
      'alg none': issuer.unsigned(user, 'orders:admin'),
      'HS256 keyed with the public key': issuer.hmacWithPublicKey(user),
      'not a JWT': 'abc.def',
      'no user claim': await issuer.token({}),
    };
    const before = await offsets();
    for (const [what, token] of Object.entries(forged)) {
      for (const response of [
        await fetch(path, { headers: bearer(token) }),
        await fetch(path, { method: 'POST', headers: { ...json, ...bearer(token) }, body: JSON.stringify({ productId: 'P', qty: 1, unitPrice: 1 }) }),
      ]) {
        expect(response.status, what).to.equal(401);
        expect(response.headers.get('www-authenticate'), what).to.match(/^Bearer realm="order-stream", error="invalid_token", error_description="[^"]+"$/);
        const body = await read(response);
        expect(body, what).to.include({ error: 'Unauthorized' });
        expect(body.message, what).to.match(/^invalid bearer token: /);
      }
    }
    expect(await offsets(), 'nothing produced').to.deep.equal(before);
    // The descriptions tell a client which check failed.
    const why = async (token: string) => (await read(fetch(path, { headers: bearer(token) }))).message as string;
    expect(await why(forged.expired!)).to.match(/expired/);
    expect(await why(forged['not yet valid']!)).to.match(/not valid yet/);
    expect(await why(forged['wrong issuer']!)).to.match(/issuer/);
    expect(await why(forged['wrong audience']!)).to.match(/audience/);
    expect(await why(forged['unknown kid']!)).to.match(/kid/);
    expect(await why(forged['alg none']!)).to.match(/algorithm/);
    expect(await why(forged['HS256 keyed with the public key']!)).to.match(/algorithm/);
    // Within the clock skew (30 s): a token that expired 5 s ago still passes.
    expect((await fetch(path, { headers: bearer(await issuer.token({ user, expiresIn: -5 })) })).status).to.equal(200);
  });

  it('picks up a rotated key (new kid) without a restart, and drops the retired one', async () => {
    const user = `${bed.tag}-carol`;
    const path = url(api, `/order-service/${user}/orders`);
    const old = issuer.published[0]!;
    expect((await fetch(path, { headers: bearer(await issuer.token({ user, key: old })) })).status).to.equal(200);
    const fetchesBefore = issuer.fetches;
    const next = await signingKey(`key-${Date.now()}`, 'RS256');
    issuer.published = [next];
    try {
      expect((await fetch(path, { headers: bearer(await issuer.token({ user, key: next })) })).status, 'new kid accepted').to.equal(200);
      expect(issuer.fetches, 'the JWKS was fetched again for the unknown kid').to.be.greaterThan(fetchesBefore);
      const retired = await fetch(path, { headers: bearer(await issuer.token({ user, key: old })) });
      expect(retired.status, 'the retired key no longer verifies').to.equal(401);
    } finally {
      issuer.published = [old, next];
    }
  });

  it('lets only catalog:write change the catalog; any valid token reads it, anonymous callers do not', async () => {
    const product = `${bed.tag}-C1`;
    const user = await issuer.token({ user: `${bed.tag}-dave` });
    const operator = await issuer.token({ user: `${bed.tag}-ops`, scope: 'profile catalog:write' });
    const body = JSON.stringify({ productName: 'Widget', unitPrice: 100, stock: 5 });
    const before = await offsets();
    const refusedPut = await fetch(url(api, `/catalog-service/catalogs/${product}`), { method: 'PUT', headers: { ...json, ...bearer(user) }, body });
    expect(refusedPut.status).to.equal(403);
    expect(refusedPut.headers.get('www-authenticate')).to.match(/error="insufficient_scope".*scope="catalog:write"/);
    const refusedRestock = await fetch(url(api, `/catalog-service/catalogs/${product}/stock`), { method: 'POST', headers: { ...json, ...bearer(user) }, body: JSON.stringify({ add: 5 }) });
    expect(refusedRestock.status).to.equal(403);
    expect(await offsets(), 'no StockAdded produced').to.deep.equal(before);
    expect((await bed.pool.query('SELECT 1 FROM catalog WHERE product_id = $1', [product])).rowCount, 'no product created').to.equal(0);

    expect((await fetch(url(api, `/catalog-service/catalogs/${product}`), { method: 'PUT', headers: { ...json, ...bearer(operator) }, body })).status).to.equal(201);
    const restock = await fetch(url(api, `/catalog-service/catalogs/${product}/stock`), { method: 'POST', headers: { ...json, ...bearer(operator), prefer: 'wait=10' }, body: JSON.stringify({ add: 5 }) });
    expect(await read(restock)).to.include({ status: 'STOCKED', stock: 10 });
    expect((await fetch(url(api, `/catalog-service/catalogs/${product}`), { headers: bearer(user) })).status).to.equal(200);
    expect((await fetch(url(api, '/catalog-service/catalogs?limit=1'), { headers: bearer(user) })).status).to.equal(200);
    expect((await fetch(url(api, `/catalog-service/catalogs/${product}`))).status).to.equal(401);
  });

  it('limits each identity: 429 with Retry-After over the limit, others unaffected, then recovery', async () => {
    const limited = await start({ ...bed.config, api: { ...bed.config.api, rateLimit: { max: 5, windowSeconds: 2 } } }, ['api']);
    const path = url(limited, '/catalog-service/catalogs?limit=1');
    const eve = bearer(await issuer.token({ user: `${bed.tag}-eve` }));
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 8; i++) {
      const response = await fetch(path, { headers: eve });
      statuses.push(response.status);
      if (response.status === 429) refused ??= response;
      else await response.body?.cancel();
    }
    expect(statuses.slice(0, 5)).to.deep.equal([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).to.deep.equal([429, 429, 429]);
    expect(Number(refused!.headers.get('retry-after'))).to.be.within(1, 2);
    expect(await read(refused!)).to.include({ error: 'Too Many Requests' });
    expect((await fetch(path, { headers: bearer(await issuer.token({ user: `${bed.tag}-frank` })) })).status, 'another identity is not limited').to.equal(200);
    // The window passes (Retry-After said when): eve is served again.
    await new Promise((resolve) => setTimeout(resolve, Number(refused!.headers.get('retry-after')) * 1000 + 100));
    expect((await fetch(path, { headers: eve })).status).to.equal(200);
  });

  it('serves metrics and probes on the management port only, without a token; the public port serves the API (and its /docs)', async () => {
    const management = (path: string) => `http://127.0.0.1:${api.managementPort}${path}`;
    expect(api.managementPort).not.to.equal(api.port);
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const there = await fetch(management(path));
      expect(there.status, `${path} on the management port`).to.equal(200);
      const publicly = await fetch(url(api, path));
      expect(publicly.status, `${path} on the public port`).to.equal(404);
      expect(await publicly.text()).not.to.match(/orderstream_|"checks"/);
    }
    expect(await (await fetch(management('/metrics'))).text()).to.match(/orderstream_http_request_duration_seconds_count\{[^}]*route="\/order-service\/:userId\/orders"/);
    expect((await fetch(management('/order-service/u/orders'))).status, 'no API on the management port').to.equal(404);
    // Refusals are counted by reason.
    const refused = (reason: string) => sample(api.managementPort, 'orderstream_api_requests_refused_total', `{reason="${reason}",role="api"}`);
    const [missing, invalid] = [await refused('missing_token'), await refused('invalid_token')];
    await fetch(url(api, '/catalog-service/catalogs'));
    await fetch(url(api, '/catalog-service/catalogs'), { headers: bearer(issuer.unsigned('x')) });
    expect([await refused('missing_token'), await refused('invalid_token')]).to.deep.equal([missing + 1, invalid + 1]);
    expect((await fetch(url(api, '/docs/json'))).status, 'the OpenAPI document is public').to.equal(200);
  });

  it('echoes a well-formed X-Request-Id and replaces anything else', async () => {
    const token = bearer(await issuer.token({ user: `${bed.tag}-gina` }));
    const path = url(api, '/catalog-service/catalogs?limit=1');
    const kept = await fetch(path, { headers: { ...token, 'x-request-id': 'trace-0af7651916cd43dd8448eb211c80319c' } });
    expect(kept.headers.get('x-request-id')).to.equal('trace-0af7651916cd43dd8448eb211c80319c');
    // (Control characters cannot be sent with fetch; the unit test covers them.)
    for (const bad of ['a'.repeat(129), 'evil id with spaces', '{"json":1}', '../../etc']) {
      const replaced = await fetch(path, { headers: { ...token, 'x-request-id': bad } });
      expect(replaced.headers.get('x-request-id'), bad).to.match(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('start-up with AUTH_MODE=jwt', () => {
  it('exits 78 (configuration) without a key source, issuer and audience, naming them', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'api'], {
      env: { PATH: process.env.PATH, NODE_ENV: 'production', KAFKA_BROKERS: '127.0.0.1:1', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1', DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status, run.stderr).to.equal(78);
    expect(run.stderr).to.match(/AUTH_JWKS_URL or AUTH_PUBLIC_KEY_FILE/).and.match(/AUTH_ISSUER/).and.match(/AUTH_AUDIENCE/);
  });
});

describe('waiters per replica (API_MAX_WAITERS, real stack)', function () {
  let bed: TestBed;
  let api: RunningService;
  before(async () => {
    // No processor on this bed's topic: a waiting request is held until its Prefer: wait runs out.
    bed = await testBed(1, { API_MAX_WAITERS: '1' });
    api = await startedService(bed.config, ['api']);
  });
  after(async () => {
    await api?.stop();
    await bed?.close();
  });

  it('answers 202 PENDING at once, without holding the request, once the cap of waiters is reached', async () => {
    const order = (user: string) =>
      fetch(`http://127.0.0.1:${api.port}/order-service/${user}/orders`, { method: 'POST', headers: { ...json, prefer: 'wait=4' }, body: JSON.stringify({ productId: `${bed.tag}-P`, qty: 1, unitPrice: 1 }) });
    const started = Date.now();
    const held = order(`${bed.tag}-first`).then((r) => ({ response: r, ms: Date.now() - started }));
    // The first request is waiting once the replica counts it (the waiter gauge on /metrics).
    await eventually('one request waiting', async () => (await (await fetch(`http://127.0.0.1:${api.managementPort}/metrics`)).text()).match(/^orderstream_verdict_waiters(?:\{[^}]*\})? (\d+)/m)?.[1], (n) => n === '1');
    const second = await order(`${bed.tag}-second`);
    const secondMs = Date.now() - started;
    expect(second.status).to.equal(202);
    expect(second.headers.get('preference-applied'), 'the wait was not applied').to.equal(null);
    expect(await read(second)).to.include({ status: 'PENDING' });
    const first = await held;
    expect(first.response.status).to.equal(202);
    expect(first.response.headers.get('preference-applied')).to.equal('wait=4');
    expect(secondMs, 'the second answered before the first stopped waiting').to.be.below(first.ms);
    expect(await sample(api.managementPort, 'orderstream_verdict_waits_capped_total'), 'counted').to.equal(1);
    expect(first.ms).to.be.at.least(3900);
  });
});
