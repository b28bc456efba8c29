// The registry as a dependency that fails: stopped during start-up and under load (the real one,
// stopped and started with the stack scripts), erroring (5xx), and requiring basic auth (a reverse
// proxy in front of the local registry that answers 401 without the right credentials).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { eventually, putProducts, testBed, totals, type TestBed } from '../support/fixtures.js';
import { killReplicas, readiness, startReplicas, stopReplicas, type Replica } from '../support/replicas.js';
import { startRegistryProxy, type RegistryProxy } from '../support/registry-proxy.js';
import { startRegistry, stopRegistry } from '../support/stack-control.js';
import { startLoad, type Load } from '../support/load.js';
import { awaitInvariants } from '../support/invariants.js';
import { createRegistry, registryRest, RegistryError } from '../../src/serde/registry.js';

const root = new URL('../../', import.meta.url).pathname;

async function postOrder(port: number, user: string, productId: string, wait = 0): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/order-service/${user}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(wait ? { prefer: `wait=${wait}` } : {}) },
    body: JSON.stringify({ productId, qty: 1, unitPrice: 100 }),
  });
}

describe('registry outages and authentication', function () {
  this.timeout(300_000);
  let bed: TestBed;
  let replicas: Replica[] = [];
  let proxy: RegistryProxy | undefined;
  /** Stopped after each test, so a failed assertion does not leave clients running (mocha would never exit). */
  let load: Load | undefined;
  let bedOpen = false;
  beforeEach(async () => {
    bed = await testBed(4);
    bedOpen = true;
  });
  afterEach(async () => {
    killReplicas(replicas);
    replicas = [];
    await load?.stop();
    load = undefined;
    await proxy?.close();
    proxy = undefined;
    await startRegistry(); // whatever happened, the next test has its registry
    if (bedOpen) await bed.close();
    bedOpen = false;
  });

  it('registry stopped under load and during start-up: running replicas keep producing and applying, new ones wait not ready, nothing lost', async () => {
    const products = Array.from({ length: 5 }, (_, i) => `${bed.tag}-P${i}`);
    const initial = Object.fromEntries(products.map((p) => [p, 1_000_000]));
    await putProducts(bed.pool, initial);
    const running = startReplicas(bed.config, ['api', 'processor'], `${bed.tag}-running`);
    replicas.push(...running);
    const [apiPort, processorPort] = await Promise.all(running.map((r) => r.started));
    const apiPorts = [apiPort!.api!];
    load = startLoad({ ports: () => apiPorts, products, user: `${bed.tag}-u`, concurrency: 4 });
    const traffic = load;
    await eventually('orders applied before the outage', () => totals(bed.pool, bed.tag), (t) => t.orders >= 100);

    await stopRegistry();
    const before = { acknowledged: traffic.count, applied: (await totals(bed.pool, bed.tag)).orders };
    const late = startReplicas(bed.config, ['api', 'processor'], `${bed.tag}-late`);
    replicas.push(...late);
    const latePorts = await Promise.all(late.map((r) => r.listening));
    const waiting = await eventually(
      'replicas started during the outage say the registry is unreachable',
      () => Promise.all(latePorts.map(readiness)),
      (rs) => rs.every((r) => r.status === 503 && /registry unreachable/.test(r.checks.startup ?? '')),
      60_000,
    );
    expect(waiting.map((r) => r.checks.registry)).to.satisfy((checks: string[]) => checks.every((c) => /unreachable/.test(c)));
    for (const port of latePorts) expect((await fetch(`http://127.0.0.1:${port.management}/healthz`)).status, 'alive while waiting').to.equal(200);
    const refused = await postOrder(latePorts[0]!.api!, `${bed.tag}-u`, products[0]!);
    expect(refused.status, 'an order before the schema id is known').to.equal(503);
    expect(refused.headers.get('retry-after')).to.match(/^\d+$/);

    // The running replicas stay ready (the registry is reported, not required) and keep working.
    for (const port of [apiPort!, processorPort!]) {
      const r = await readiness(port);
      expect(r.status, `replica on ${port.management} ready during the outage: ${JSON.stringify(r.checks)}`).to.equal(200);
      expect(r.checks.registry).to.match(/unreachable/);
    }
    await eventually(
      'orders acknowledged and applied while the registry is down',
      async () => ({ acknowledged: traffic.count, applied: (await totals(bed.pool, bed.tag)).orders }),
      (now) => now.acknowledged >= before.acknowledged + 200 && now.applied >= before.applied + 200,
    );

    await startRegistry();
    await eventually('late replicas ready once the registry is back', () => Promise.all(latePorts.map(readiness)), (rs) => rs.every((r) => r.status === 200), 120_000);
    expect(late.map((r) => r.process.exitCode), 'no replica exited').to.deep.equal([null, null]);
    apiPorts.push(latePorts[0]!.api!);
    const withLate = traffic.count;
    await eventually('orders through both apis', async () => traffic.count, (n) => n >= withLate + 200);
    const result = await traffic.stop();

    const verdict = await awaitInvariants(bed.pool, result.acknowledged, initial);
    console.log(`      ${verdict.acknowledged} acknowledged, ${verdict.lost} lost; statuses ${JSON.stringify(Object.fromEntries(result.statuses))}`);
    expect(verdict.lost, 'acknowledged orders not applied').to.equal(0);
    expect(verdict.stockMismatches).to.deep.equal([]);
    expect([...result.statuses.keys()].filter((s) => s >= 500), 'no 5xx from the running api during the outage').to.deep.equal([]);
    expect(await stopReplicas(replicas)).to.deep.equal([0, 0, 0, 0]);
  });

  it('a registry answering 5xx at start-up: not ready with the reason, ready once it answers', async () => {
    proxy = await startRegistryProxy(bed.config.registry.url);
    proxy.mode = 'error';
    replicas = startReplicas(bed.config, ['api'], `${bed.tag}-erroring`, { SCHEMA_REGISTRY_URL: proxy.url });
    const [port] = await Promise.all(replicas.map((r) => r.listening));
    const waiting = await eventually('not ready, naming the 503', () => readiness(port!), (r) => r.status === 503 && /answered 503/.test(r.checks.startup ?? ''), 60_000);
    expect(waiting.checks.registry).to.match(/answered 503/);
    proxy.mode = 'pass';
    await eventually('ready once the registry answers', () => readiness(port!), (r) => r.status === 200, 60_000);
    expect(replicas[0]!.process.exitCode).to.equal(null);
  });

  it('basic auth: refused without credentials, works with the settings or URL user-info, and the password is never logged', async () => {
    const credentials = { username: 'order-stream', password: `pw-${bed.tag}` };
    proxy = await startRegistryProxy(bed.config.registry.url, credentials);
    const product = `${bed.tag}-A`;
    await putProducts(bed.pool, { [product]: 10 });
    const withUserInfo = new URL(proxy.url);
    withUserInfo.username = credentials.username;
    withUserInfo.password = credentials.password;
    replicas = [
      ...startReplicas(bed.config, ['api'], `${bed.tag}-noauth`, { SCHEMA_REGISTRY_URL: proxy.url }),
      ...startReplicas(bed.config, ['api'], `${bed.tag}-settings`, {
        SCHEMA_REGISTRY_URL: proxy.url,
        SCHEMA_REGISTRY_USERNAME: credentials.username,
        SCHEMA_REGISTRY_PASSWORD: credentials.password,
      }),
      ...startReplicas(bed.config, ['processor'], `${bed.tag}-userinfo`, { SCHEMA_REGISTRY_URL: withUserInfo.toString() }),
    ];
    const [refusedPort, apiPort, processorPort] = await Promise.all(replicas.map((r) => r.listening));
    const refused = await eventually('not ready without credentials', () => readiness(refusedPort!), (r) => r.status === 503 && /401.*SCHEMA_REGISTRY_USERNAME/.test(r.checks.startup ?? ''), 60_000);
    expect(refused.checks.registry).to.match(/401/);
    await eventually('ready with credentials', () => Promise.all([apiPort!, processorPort!].map(readiness)), (rs) => rs.every((r) => r.status === 200), 90_000);
    const answer = await postOrder(apiPort!.api!, `${bed.tag}-u`, product, 20);
    expect(answer.status).to.equal(201);
    expect(((await answer.json()) as { status: string }).status).to.equal('ACCEPTED');
    expect(proxy.authorized, 'requests that reached the registry with credentials').to.be.greaterThan(0);
    expect(proxy.refused).to.be.greaterThan(0);

    // The decode path's client (writer schemas by id) sends the same credentials.
    const id = bed.serde.registeredId;
    const authed = createRegistry({ url: proxy.url, auth: credentials, autoRegister: false });
    expect(await authed.getSchema(id)).to.be.an('object');
    let status: number | undefined;
    try {
      await createRegistry({ url: proxy.url, autoRegister: false }).getSchema(id);
    } catch (err) {
      status = (err as { status?: number }).status;
    }
    expect(status, 'no credentials, no schema').to.equal(401);
    let restError: unknown;
    try {
      await registryRest({ url: proxy.url, auth: { ...credentials, password: 'wrong' }, autoRegister: false }).request('GET', '/subjects');
    } catch (err) {
      restError = err;
    }
    expect(restError).to.be.instanceOf(RegistryError).with.property('status', 401);

    expect(await stopReplicas(replicas)).to.deep.equal([0, 0, 0]);
    for (const name of ['noauth-api-0', 'settings-api-0', 'userinfo-processor-0']) {
      const log = readFileSync(`${root}.stack/test-logs/${bed.tag}-${name}.log`, 'utf8');
      expect(log.length, `${name} logged something`).to.be.greaterThan(0);
      expect(log, `${name} log`).not.to.include(credentials.password);
    }
  });
});
