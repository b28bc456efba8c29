// The image runs as deployed (scripts/image/build.sh built it): each role in its own container with
// a read-only root filesystem (and no writable tmpfs either) as uid 10001, on the host network
// against the real local stack (.stack/env).
//   - /readyz answers 200 in both; the image's HEALTHCHECK command passes; the processor runs on
//     the Node.js that .node-version pins;
//   - an order POSTed to the containerised api is applied by the containerised processor
//     (Prefer: wait → 201 ACCEPTED, stock decremented);
//   - SIGTERM mid-backlog: the processor exits 0 within SHUTDOWN_TIMEOUT_MS and what it applied
//     is exactly what it committed (the batch in flight finished and committed); the api exits 0;
//   - nothing was written to the root filesystem (podman diff is empty).
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { eventually, makeOrder, orderMessage, produceAll, putProducts, testBed, totals, type TestBed } from '../support/fixtures.js';
import { committedTotal, httpStatus, IMAGE, inspect, podman, PORT_BASE, processStatus, removeContainers, request } from './podman.js';

const SHUTDOWN_TIMEOUT_MS = 10_000;
const PARTITIONS = 3;

describe(`container image ${IMAGE}`, function () {
  this.timeout(300_000);
  let bed: TestBed;
  const names = { api: '', processor: '' };
  const ports = { api: PORT_BASE, processor: PORT_BASE + 1 };
  /** MANAGEMENT_PORT of each container: /healthz, /readyz, /metrics. */
  const management = { api: PORT_BASE + 2, processor: PORT_BASE + 3 };

  function runRole(role: 'api' | 'processor', extra: Record<string, string> = {}): Promise<string> {
    const env: Record<string, string> = {
      KAFKA_BROKERS: bed.config.kafka.brokers,
      SCHEMA_REGISTRY_URL: bed.config.registry.url,
      DATABASE_URL: bed.config.database.url,
      ORDERS_TOPIC: bed.config.kafka.ordersTopic,
      ORDERS_DLQ_TOPIC: bed.config.kafka.dlqTopic,
      ORDERS_TOPIC_PARTITIONS: String(PARTITIONS),
      PROCESSOR_GROUP_ID: bed.config.kafka.groupId,
      HOST: '127.0.0.1',
      PORT: String(ports[role]),
      MANAGEMENT_PORT: String(management[role]),
      // No token issuer here (the image's NODE_ENV=production would require one): tokens are
      // tested against a real JWKS endpoint in test/integration/auth.test.ts.
      AUTH_MODE: 'off',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      ...extra,
    };
    return podman(
      'run', '--detach', '--name', names[role], '--network', 'host',
      '--read-only', '--read-only-tmpfs=false', '--user', '10001:10001',
      ...Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
      IMAGE, role,
    );
  }

  before(async () => {
    bed = await testBed(PARTITIONS);
    names.api = `${bed.tag}-api`;
    names.processor = `${bed.tag}-processor`;
    // Small batches and a wait so that a SIGTERM lands mid-backlog with a batch in flight.
    await runRole('processor', { PROCESSOR_BATCH_MAX_MESSAGES: '200', PROCESSOR_APPLY_CONCURRENCY: '1' });
    await runRole('api');
  });

  after(async () => {
    await removeContainers(names.api, names.processor);
    await bed?.close();
  });

  it('runs both roles as uid 10001 with a read-only root filesystem; /readyz answers 200', async () => {
    for (const role of ['api', 'processor'] as const) {
      await eventually(`${role} /readyz`, () => httpStatus(management[role], '/readyz'), (s) => s === 200, 120_000);
      const info = await inspect(names[role]);
      expect(info.HostConfig.ReadonlyRootfs, role).to.equal(true);
      const status = await processStatus(names[role]);
      expect(status.Uid?.split(/\s+/), `${role} real/effective/saved/fs uid`).to.deep.equal(['10001', '10001', '10001', '10001']);
    }
  });

  it('runs the Node.js of .node-version (issue 21: a supported LTS), the binary the processor itself runs on', async () => {
    const pinned = readFileSync(new URL('../../.node-version', import.meta.url), 'utf8').trim().replace(/^v/, '');
    // The running processor's own process, not a fresh `node` that might be another one on PATH.
    expect(await podman('exec', names.processor, 'node', '-p', 'process.version')).to.equal(`v${pinned}`);
    expect(await podman('exec', names.processor, 'sh', '-c', 'readlink /proc/1/exe')).to.equal(await podman('exec', names.processor, 'sh', '-c', 'readlink -f "$(command -v node)"'));
  });

  it('passes the image HEALTHCHECK', async () => {
    const { Config } = await inspect(names.api);
    expect(Config.Healthcheck?.Test.join(' '), 'HEALTHCHECK kept in the image (built with --format docker)').to.include('/healthz');
    for (const role of ['api', 'processor'] as const) {
      // Exit status 0 and "healthy": the command ran inside the container and reached /healthz.
      expect(await podman('healthcheck', 'run', names[role]), role).to.not.match(/unhealthy/);
    }
    // A failing check is reported as such: the same command against a port nothing listens on.
    const failing = await podman('exec', '--env', 'MANAGEMENT_PORT=1', names.api, ...(Config.Healthcheck?.Test.slice(1) ?? [])).then(() => 'passed', () => 'failed');
    expect(failing).to.equal('failed');
  });

  it('applies an order POSTed to the containerised api in the containerised processor', async () => {
    const product = `${bed.tag}-P`;
    const put = await request(ports.api, 'PUT', `/catalog-service/catalogs/${product}`, { productName: 'container test', unitPrice: 900, stock: 100 });
    expect(put.status).to.be.oneOf([200, 201]);
    const order = await request(ports.api, 'POST', `/order-service/${bed.tag}-u/orders`, { productId: product, qty: 10, unitPrice: 900 }, { prefer: 'wait=30' });
    expect(order.status, JSON.stringify(order.body)).to.equal(201);
    expect(order.body).to.include({ status: 'ACCEPTED', productId: product, qty: 10, totalPrice: 9000 });
    const catalog = await request(ports.api, 'GET', `/catalog-service/catalogs/${product}`);
    expect(catalog.body.stock).to.equal(90);
  });

  it('stops the processor on SIGTERM mid-backlog: exit 0 in time, everything applied committed', async () => {
    const product = `${bed.tag}-B`;
    await putProducts(bed.pool, { [product]: 1_000_000 });
    const orders = Array.from({ length: 20_000 }, () => makeOrder(bed, product, 1, `${bed.tag}-b`));
    await produceAll(bed, orders.map((o) => orderMessage(bed, o)));
    await eventually('part of the backlog applied', () => totals(bed.pool, `${bed.tag}-b`), (t) => t.orders >= 1000, 120_000);

    const signalled = Date.now();
    await podman('kill', '--signal', 'TERM', names.processor);
    const exitCode = Number(await podman('wait', names.processor));
    const tookMs = Date.now() - signalled;
    expect(exitCode).to.equal(0);
    expect(tookMs).to.be.below(SHUTDOWN_TIMEOUT_MS);

    const applied = (await totals(bed.pool, bed.tag)).orders; // this test's backlog and the earlier order
    expect(applied, 'stopped mid-backlog').to.be.below(orders.length + 1);
    const committed = await committedTotal(bed.config.kafka.brokers, bed.config.kafka.groupId, bed.config.kafka.ordersTopic, PARTITIONS);
    expect(committed, 'committed offsets = applied orders').to.equal(applied);
  });

  it('stops the api on SIGTERM with exit 0 in time', async () => {
    const signalled = Date.now();
    await podman('kill', '--signal', 'TERM', names.api);
    expect(Number(await podman('wait', names.api))).to.equal(0);
    expect(Date.now() - signalled).to.be.below(SHUTDOWN_TIMEOUT_MS);
  });

  it('wrote nothing to the root filesystem (podman diff shows only the mount points podman itself adds)', async () => {
    // With --network host podman bind-mounts /etc/hosts, /etc/resolv.conf (and /run/.containerenv)
    // over files it creates before the container starts; nothing else may differ from the image.
    const podmanOwn = new Set(['C /etc', 'A /etc/hosts', 'A /etc/hostname', 'A /etc/resolv.conf', 'C /run', 'A /run/.containerenv']);
    for (const role of ['api', 'processor'] as const) {
      const changes = (await podman('diff', names[role])).split('\n').filter(Boolean);
      expect(changes.filter((c) => !podmanOwn.has(c)), role).to.deep.equal([]);
    }
  });
});
