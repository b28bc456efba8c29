// Start-up during an outage, on the real stack: each role started as in production (a child
// process) while PostgreSQL, Kafka or both are unreachable. The real servers keep running; the
// roles reach them through test-owned TCP proxies that first refuse connections (as a server that
// is down does) and later forward them. A role must answer /healthz at once, say in /readyz which
// start-up step it waits for, keep its memory flat, never exit, and become ready and serve by
// itself once the dependency is back. A restock whose acknowledgement is slow (Kafka slowed, not
// stopped) is answered 202 PENDING, never 503: it is durable.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { eventually, putProducts, stockOf, testBed, type TestBed } from '../support/fixtures.js';
import { envFor, spawnRole, type Child, type Ports } from '../support/child.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { startedService } from '../support/service.js';
import { stackConfig } from '../support/env.js';

type Readiness = { status: number; body: { failing?: string[]; checks: Record<string, string> } };

const readiness = async (port: number): Promise<Readiness> => {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as Readiness['body'] };
};

/** Resident set size of a process, from /proc (Linux). */
const rssBytes = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

const hostPort = (url: string) => {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
};

describe('start-up while dependencies are down (child processes, real stack behind proxies)', function () {
  let bed: TestBed;
  let postgres: TcpProxy;
  let kafka: TcpProxy;
  const children: Child[] = [];

  before(async () => {
    bed = await testBed(3);
    postgres = await startTcpProxy(hostPort(bed.config.database.url));
    const [broker] = bed.config.kafka.brokers.split(',');
    const [host, port] = broker!.split(':');
    kafka = await startTcpProxy({ host: host!, port: Number(port) }, { kafka: true });
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.process.kill('SIGTERM');
      await child.exited;
    }
    await Promise.all([postgres.close(), kafka.close()]);
  });
  after(() => bed.close());

  const proxiedEnv = (name: string) => {
    const databaseUrl = new URL(bed.config.database.url);
    databaseUrl.port = String(postgres.port);
    // Each role its own group, so the processor of one case does not wait for another's to leave.
    return envFor(bed.config, { DATABASE_URL: databaseUrl.toString(), KAFKA_BROKERS: `127.0.0.1:${kafka.port}`, PROCESSOR_GROUP_ID: `${bed.tag}-${name}`, LOG_LEVEL: 'info' });
  };

  const start = (role: 'api' | 'processor', name: string) => {
    const child = spawnRole(role, proxiedEnv(name), `${bed.tag}-${name}-${role}`);
    children.push(child);
    return child;
  };

  /** Both roles started while `down` is unreachable; what they report until it is back. */
  async function whileDown(name: string, expected: RegExp) {
    const api = start('api', name);
    const processor = start('processor', name);
    const ports = await Promise.all([api.listening, processor.listening]);
    for (const { management: port } of ports) {
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 'healthz at once').to.equal(200);
      const ready = await eventually(`${port} names the step it waits for`, () => readiness(port), (r) => expected.test(r.body.checks.startup ?? ''), 20_000);
      expect(ready.status).to.equal(503);
      expect(ready.body.failing).to.include('startup');
    }
    // The API itself answers 503 naming the dependency, not 500 and not a hang.
    const order = await fetch(`http://127.0.0.1:${ports[0].api}/order-service/${bed.tag}-u/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productId: 'P', qty: 1, unitPrice: 100 }) });
    expect(order.status).to.equal(503);
    // Memory stays flat across several retries: nothing accumulates per attempt.
    const before = [api, processor].map((c) => rssBytes(c.process.pid!));
    const attempts = (port: number) => readiness(port).then((r) => Number(/attempt (\d+)/.exec(r.body.checks.startup ?? '')?.[1] ?? 0));
    const firstAttempt = await attempts(ports[0].management);
    await eventually('a few more attempts', () => attempts(ports[0].management), (n) => n >= firstAttempt + 2, 30_000, 200);
    const after = [api, processor].map((c) => rssBytes(c.process.pid!));
    after.forEach((rss, i) => {
      expect(rss, 'RSS while waiting').to.be.below(400 * 1024 * 1024);
      expect(rss - before[i]!, 'RSS growth while waiting').to.be.below(40 * 1024 * 1024);
    });
    for (const child of [api, processor]) expect(child.process.exitCode, 'still running').to.equal(null);
    return { api, processor, ports: ports as [Ports, Ports] };
  }

  /** Both roles become ready without a restart, and an order goes through them end to end. */
  async function servesOnceBack({ api, processor, ports }: { api: Child; processor: Child; ports: [Ports, Ports] }, user: string) {
    await Promise.all([api.started, processor.started]);
    for (const { management: port } of ports) await eventually(`${port} ready`, async () => (await readiness(port)).status, (s) => s === 200, 60_000);
    const product = `${bed.tag}-${user}`;
    await putProducts(bed.pool, { [product]: 10 });
    const placed = await fetch(`http://127.0.0.1:${ports[0].api}/order-service/${user}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=20' },
      body: JSON.stringify({ productId: product, qty: 3, unitPrice: 100 }),
    });
    expect(placed.status).to.equal(201);
    expect(await placed.json()).to.include({ status: 'ACCEPTED' });
    expect(await stockOf(bed.pool, [product])).to.deep.equal({ [product]: 7 });
    for (const child of [api, processor]) expect(child.process.exitCode, 'never exited').to.equal(null);
  }

  it('PostgreSQL down: waits on the migrations, then becomes ready and serves', async () => {
    await kafka.open();
    const roles = await whileDown('pg', /^waiting for postgres: database migrations: .*ECONNREFUSED/);
    await postgres.open();
    await servesOnceBack(roles, `${bed.tag}-pg`);
  });

  it('Kafka down: waits on the topics, then becomes ready and serves', async () => {
    await postgres.open();
    const roles = await whileDown('kafka', /^waiting for kafka: topic creation: /);
    await kafka.open();
    await servesOnceBack(roles, `${bed.tag}-kafka`);
  });

  it('both down: waits on PostgreSQL, then on Kafka once PostgreSQL is back, then serves', async () => {
    const roles = await whileDown('both', /^waiting for postgres: database migrations: /);
    await postgres.open();
    for (const { management: port } of roles.ports) {
      await eventually(`${port} moves on to Kafka`, () => readiness(port), (r) => /^waiting for kafka: /.test(r.body.checks.startup ?? ''), 30_000);
    }
    await kafka.open();
    await servesOnceBack(roles, `${bed.tag}-both`);
  });
});

describe('a 503 means not acknowledged: Kafka slowed (real stack behind a delaying proxy)', function () {
  let bed: TestBed;
  let kafka: TcpProxy;
  before(async () => {
    bed = await testBed(1);
    const [host, port] = bed.config.kafka.brokers.split(',')[0]!.split(':');
    kafka = await startTcpProxy({ host: host!, port: Number(port) }, { kafka: true });
    await kafka.open();
  });
  after(async () => {
    await kafka.close();
    await bed.close();
  });

  it('answers a restock and a cancellation whose acknowledgement came after the wait 202 PENDING, and applies each once', async () => {
    const config = stackConfig({ ORDERS_TOPIC: bed.config.kafka.ordersTopic, ORDERS_DLQ_TOPIC: bed.config.kafka.dlqTopic, PROCESSOR_GROUP_ID: bed.config.kafka.groupId, ORDERS_TOPIC_PARTITIONS: '1', PORT: '0', MANAGEMENT_PORT: '0', HOST: '127.0.0.1', KAFKA_BROKERS: `127.0.0.1:${kafka.port}` });
    const api = await startedService(config, ['api']);
    const processor = await startedService(bed.config, ['processor']); // straight to the broker
    try {
      const product = `${bed.tag}-slow`;
      await putProducts(bed.pool, { [product]: 5 });
      const post = (path: string, body: unknown, headers: Record<string, string>) =>
        fetch(`http://127.0.0.1:${api.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      const placed = await post(`/order-service/${bed.tag}-u/orders`, { productId: product, qty: 2, unitPrice: 100 }, { prefer: 'wait=10' });
      const { orderId } = (await placed.json()) as { orderId: string };
      expect(placed.status).to.equal(201);

      // Every byte to and from the broker now waits 1.5 s: acknowledgements take ~3 s, past a 1 s wait.
      kafka.delayMs = 1500;
      const startedAt = Date.now();
      const restock = await post(`/catalog-service/catalogs/${product}/stock`, { add: 10 }, { prefer: 'wait=1' });
      expect(Date.now() - startedAt, 'the acknowledgement was slow').to.be.above(2000);
      expect(restock.status).to.equal(202);
      expect(await restock.json()).to.include({ status: 'PENDING', add: 10 });

      const cancel = await post(`/order-service/${bed.tag}-u/orders/${orderId}/cancel`, {}, { prefer: 'wait=1' });
      expect(cancel.status).to.equal(202);
      expect(await cancel.json()).to.include({ status: 'PENDING', orderId });
      kafka.delayMs = 0;

      // Each applied exactly once: 5 − 2 (order) + 10 (restock) + 2 (cancellation) = 15.
      await eventually('restock and cancellation applied', () => stockOf(bed.pool, [product]), (s) => s[product] === 15, 30_000);
      const { rows } = await bed.pool.query('SELECT count(*)::int AS n FROM stock_additions WHERE product_id = $1', [product]);
      expect(rows[0].n).to.equal(1);
    } finally {
      kafka.delayMs = 0;
      await api.stop();
      await processor.stop();
    }
  });
});
