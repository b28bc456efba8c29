// Faults injected under load, against the real stack with api and processor replicas as child
// processes. After every scenario the same invariants are checked (test/support/invariants.ts).
// CHAOS=full (npm run test:chaos) runs the sizes RELIABILITY.md reports; the default is the short
// variant that npm test runs in CI.
import { expect } from 'chai';

import avro from 'avsc';
import Kafka from '@confluentinc/kafka-javascript';
import { testBed, putProducts, produceAll, orderMessage, makeOrder, eventually, totals, type TestBed } from '../support/fixtures.js';
import type { Child } from '../support/child.js';
import { answered, startLoad } from '../support/load.js';
import { awaitInvariants } from '../support/invariants.js';
import { expectHealthy, expectNoServerErrors, full, readyz, recovers, Report, scale, sleep, replicaSpawner, scenarioCatalog, scenarioProducts } from '../support/scenario.js';
import { startRetryingClients } from '../support/retrying-clients.js';
import { topicCopies } from '../support/topic-copies.js';
import { startKafka, stopKafka, startPostgres, stopPostgres } from '../support/stack-control.js';
import { createAdmin } from '../../src/kafka/clients.js';
import { orderIdFor } from '../../src/api/orders.js';
import { ORDER_CREATED_SCHEMA } from '../../src/serde/order-serde.js';
import { frame } from '../../src/serde/wire.js';

const report = new Report();

describe(`chaos (${full ? 'full' : 'short'})`, function () {
  this.timeout(scale(300_000, 1_800_000));
  let bed: TestBed;
  const children: Child[] = [];
  const products = scenarioProducts;
  const catalog = scenarioCatalog;
  const spawn = replicaSpawner(() => bed, children);

  beforeEach(async () => {
    bed = await testBed(6);
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    await bed.close();
    // A scenario that failed half-way may have left a dependency stopped: the next one needs it.
    await startKafka();
    await startPostgres();
  });
  after(() => report.print());

  it('processor killed with SIGKILL at random points, again and again, under load', async () => {
    const initial = catalog(bed.tag, 1_000_000);
    await putProducts(bed.pool, initial);
    const apis = [await spawn('api', 'api-1'), await spawn('api', 'api-2')];
    let processors = [await spawn('processor', 'proc-a-0'), await spawn('processor', 'proc-b-0')];
    const total = scale(20_000, 100_000);
    // The order lifecycle mixed in: 10 % cancellations of acknowledged orders, 10 % restocks.
    const load = startLoad({ ports: () => apis.map((a) => a.port!), products: products(bed.tag), user: `${bed.tag}-u`, concurrency: 40, total, mix: { cancel: 0.1, restock: 0.1 } });
    // At least `cycles` kills, and kills for as long as the load runs.
    let cycles = 0;
    let killedBySignal = 0;
    for (let cycle = 1; cycle <= scale(6, 20) || !load.done; cycle++) {
      cycles = cycle;
      await sleep(200 + Math.random() * scale(800, 1500));
      const victim = Math.floor(Math.random() * processors.length);
      processors[victim]!.process.kill('SIGKILL');
      await processors[victim]!.exited;
      // A processor that had already died by itself would not show the signal.
      if (processors[victim]!.process.signalCode === 'SIGKILL') killedBySignal++;
      processors[victim] = await spawn('processor', `proc-${victim}-${cycle}`);
    }
    const result = await load.stop();
    const verdict = await awaitInvariants(bed.pool, result.acknowledged, initial, 120_000, result.commands);
    report.record('processor SIGKILL', `${cycles} kills at random moments`, `${result.acknowledged.size} orders and ${result.commands.size} cancellations/restocks via 2 api replicas, 40 concurrent`, verdict, result);
    expect([...result.commands.values()].filter((c) => c.kind === 'cancel').length, 'cancellations in the mix').to.be.greaterThan(0);
    expect([...result.commands.values()].filter((c) => c.kind === 'restock').length, 'restocks in the mix').to.be.greaterThan(0);
    expectHealthy(verdict);
    expectNoServerErrors(result);
    expect(killedBySignal, 'kills that hit a running processor').to.equal(cycles);
    // The last replacements run on, in the group, and report ready.
    for (const processor of processors) {
      await eventually(`processor on port ${processor.managementPort} ready`, () => readyz(processor.managementPort), (r) => r.httpStatus === 200, 30_000);
    }
  });

  it('Kafka broker stopped and restarted under load: 503 while down, recovery by itself', async () => {
    const initial = catalog(bed.tag, 1_000_000);
    await putProducts(bed.pool, initial);
    const extra = { API_PRODUCE_TIMEOUT_MS: '2000' };
    const apis = [await spawn('api', 'api-1', extra), await spawn('api', 'api-2', extra)];
    await spawn('processor', 'proc-1');
    const load = startLoad({ ports: () => apis.map((a) => a.port!), products: products(bed.tag), user: `${bed.tag}-u`, concurrency: 20 });
    await recovers(load, 200); // under way
    await stopKafka();
    const down = performance.now();
    const notReady = await eventually('api readiness names kafka', () => readyz(apis[0]!.managementPort), (r) => r.httpStatus === 503 && r.failing.includes('kafka'), 15_000);
    // Down until the clients have felt it: that many orders refused with 503, not a fixed time.
    const unavailableWhileDown = await eventually('orders answered 503 while Kafka is down', () => load.statuses.get(503) ?? 0, (n) => n >= scale(50, 300), 60_000);
    await startKafka();
    await recovers(load, 200); // by itself: no replica was restarted
    await eventually('api ready again', () => readyz(apis[0]!.managementPort), (r) => r.httpStatus === 200, 30_000);
    const result = await load.stop();
    const verdict = await awaitInvariants(bed.pool, result.acknowledged, initial);
    report.record('Kafka broker stop/start', `broker down until ${unavailableWhileDown} orders were answered 503 (${((performance.now() - down) / 1000).toFixed(1)} s)`, `${result.acknowledged.size} orders, 20 concurrent, reads mixed in`, verdict, result);
    expectHealthy(verdict);
    expectNoServerErrors(result);
    expect(unavailableWhileDown, '503 answers while Kafka was down').to.be.greaterThan(0);
    expect(result.unavailable.get('kafka') ?? 0, 'order 503s name kafka').to.equal(result.statuses.get(503) ?? 0);
    expect(result.readStatuses.get(503) ?? 0, 'reads need only PostgreSQL').to.equal(0);
    expect(notReady.checks.postgres, 'the other dependencies stay ok').to.equal('ok');
    expect(result.slowestMs, 'no request hung').to.be.below(10_000);
  });

  it('PostgreSQL restarted under load: reads answer 503 naming it, orders go on, the processor retries and resumes', async () => {
    const initial = catalog(bed.tag, 1_000_000);
    await putProducts(bed.pool, initial);
    const apis = [await spawn('api', 'api-1')];
    await spawn('processor', 'proc-1');
    const load = startLoad({ ports: () => apis.map((a) => a.port!), products: products(bed.tag), user: `${bed.tag}-u`, concurrency: 20, readEvery: 3 });
    await recovers(load, 200);
    await stopPostgres();
    const down = performance.now();
    const notReady = await eventually('api readiness names postgres', () => readyz(apis[0]!.managementPort), (r) => r.httpStatus === 503 && r.failing.includes('postgres'), 15_000);
    const acknowledgedAtStop = load.count;
    await eventually('reads answered 503 postgres', () => load.unavailable.get('postgres') ?? 0, (n) => n >= 10, 15_000);
    // Down until orders were seen going on without it (they need only Kafka), not a fixed time.
    const acknowledgedWhileDown = (await eventually('orders acknowledged while PostgreSQL is down', () => load.count, (n) => n >= acknowledgedAtStop + scale(100, 500), 60_000)) - acknowledgedAtStop;
    const readsOkAtRestart = load.readStatuses.get(200) ?? 0;
    await startPostgres();
    // Recovered: reads answer again, and the processor applies what piled up (awaitInvariants).
    await eventually('reads answered 200 again', () => load.readStatuses.get(200) ?? 0, (n) => n >= readsOkAtRestart + 50, 60_000);
    await recovers(load, 200);
    await eventually('api ready again', () => readyz(apis[0]!.managementPort), (r) => r.httpStatus === 200, 30_000);
    const result = await load.stop();
    const verdict = await awaitInvariants(bed.pool, result.acknowledged, initial);
    report.record('PostgreSQL stop/start', `database down until ${acknowledgedWhileDown} orders were acknowledged without it (${((performance.now() - down) / 1000).toFixed(1)} s)`, `${result.acknowledged.size} orders, 20 concurrent, reads and catalog writes mixed in`, verdict, result);
    expectHealthy(verdict);
    expectNoServerErrors(result);
    expect(acknowledgedWhileDown, 'orders acknowledged while the database was down (they need only Kafka)').to.be.greaterThan(0);
    expect(result.unavailable.get('postgres') ?? 0, 'read 503s name postgres').to.equal(result.readStatuses.get(503) ?? 0);
    expect(result.statuses.get(503) ?? 0, 'orders need only Kafka').to.equal(0);
    expect(notReady.checks.kafka, 'the other dependencies stay ok').to.equal('ok');
  });

  it('api replica killed with SIGKILL mid-produce while clients retry with the same Idempotency-Key: every key applied exactly once', async () => {
    const initial = catalog(bed.tag, 1_000_000);
    await putProducts(bed.pool, initial);
    const user = `${bed.tag}-keys`;
    const apis = [await spawn('api', 'api-a-0'), await spawn('api', 'api-b-0')];
    await spawn('processor', 'proc-1');
    await spawn('processor', 'proc-2');
    const keys = scale(1_500, 20_000);
    const orders = Array.from({ length: keys }, (_, i) => ({ key: `checkout-${i}`, productId: products(bed.tag)[i % 20]!, qty: 1 + (i % 3) }));
    const clients = startRetryingClients({ ports: () => apis.map((a) => a.port!), user, orders, concurrency: 40 });
    await eventually('first keys answered', () => clients.answered, (n) => n > 0, 30_000);
    let kills = 0;
    // Kill while requests are in flight: 40 clients keep each live replica waiting on Kafka's
    // acknowledgements, so a kill cuts off orders that may or may not have reached Kafka.
    while (clients.answered < keys) {
      await sleep(300 + Math.random() * 700);
      if (clients.answered >= keys) break;
      const victim = Math.floor(Math.random() * apis.length);
      apis[victim]!.process.kill('SIGKILL');
      await apis[victim]!.exited;
      kills++;
      apis[victim] = await spawn('api', `api-${victim}-${kills}`);
    }
    const result = await clients.finished();
    const acknowledged = new Map(orders.map((o) => [result.orderIds.get(o.key) ?? `missing ${o.key}`, { productId: o.productId, qty: o.qty }]));
    const verdict = await awaitInvariants(bed.pool, acknowledged, initial);
    const copies = await topicCopies(bed);
    const stored = await totals(bed.pool, user);
    report.record('api SIGKILL mid-produce, clients retry', `${kills} kills of one of 2 api replicas`, `${keys} keyed orders, 40 concurrent clients retrying every 503 or unanswered request (${result.retries} retries, ${result.unanswered} unanswered); ${copies.extraCopies} extra copies in Kafka`, verdict);
    expect(result.failed, 'keys given up on').to.deep.equal([]);
    expect(kills).to.be.greaterThan(0);
    expect(result.unanswered, 'requests cut off by a kill').to.be.greaterThan(0);
    for (const order of orders) expect(result.orderIds.get(order.key), order.key).to.equal(orderIdFor(user, order.key));
    expectHealthy(verdict);
    expect(stored.orders, 'one stored order per key').to.equal(keys);
    expect(copies.orders, 'every key in Kafka').to.equal(keys);
    expect(answered({ statuses: result.statuses, readStatuses: new Map() }, 500)).to.equal(0);
  });

  it('malformed messages interleaved with valid ones: all in the DLQ with reasons, the valid applied', async () => {
    const initial = catalog(bed.tag, 1_000_000);
    await putProducts(bed.pool, initial);
    const type = avro.Type.forSchema(JSON.parse(ORDER_CREATED_SCHEMA) as avro.Schema);
    const malformed = scale(2_000, 10_000);
    const valid = Array.from({ length: malformed }, () => makeOrder(bed, products(bed.tag)[Math.floor(Math.random() * 20)]!, 1));
    const messages = valid.flatMap((order, i) => {
      const kind = i % 3;
      const bad =
        kind === 0 ? Buffer.from(`garbage ${i}`)
        : kind === 1 ? frame(1_999_999_999, type.toBuffer(makeOrder(bed, order.productId, 1)))
        : bed.serde.encode({ type: 'OrderCreated', event: { ...makeOrder(bed, order.productId, 1), qty: -i - 1, totalPrice: (-i - 1) * 100 } }); // valid Avro, refused by the qty check
      return [orderMessage(bed, order), { topic: bed.config.kafka.ordersTopic, key: order.productId, value: bad }];
    });
    await produceAll(bed, messages);
    await spawn('processor', 'proc-1');
    await spawn('processor', 'proc-2');
    const acknowledged = new Map(valid.map((o) => [o.orderId, { productId: o.productId, qty: o.qty }]));
    const verdict = await awaitInvariants(bed.pool, acknowledged, initial);
    const admin = createAdmin({ brokers: bed.config.kafka.brokers });
    const dlqCount = async () => {
      let sum = 0;
      for (let partition = 0; partition < 6; partition++) {
        sum += await new Promise<number>((resolve, reject) =>
          admin.listOffsets([{ topic: bed.config.kafka.dlqTopic, partition, offset: Kafka.OffsetSpec.LATEST }], { timeout: 5000 }, (err, r) => (err ? reject(err) : resolve(Number(r[0]?.offset ?? 0)))),
        );
      }
      return sum;
    };
    const inDlq = await eventually('every malformed message in the DLQ', dlqCount, (n) => n >= malformed, 60_000, 100).finally(() => admin.disconnect());
    report.record('malformed messages', `${malformed} malformed (garbage, unknown schema id, negative qty) among ${malformed} valid`, 'pre-produced backlog, 2 processors', verdict);
    expectHealthy(verdict);
    expect(inDlq).to.equal(malformed);
  });

  it('rebalance storm: processors joining and leaving under load', async () => {
    const initial = catalog(bed.tag, 1_000_000);
    await putProducts(bed.pool, initial);
    const apis = [await spawn('api', 'api-1'), await spawn('api', 'api-2')];
    await spawn('processor', 'proc-stable');
    const load = startLoad({ ports: () => apis.map((a) => a.port!), products: products(bed.tag), user: `${bed.tag}-u`, concurrency: 30 });
    const rounds = scale(4, 12);
    for (let round = 0; round < rounds; round++) {
      const joiners = [await spawn('processor', `proc-j${round}a`), await spawn('processor', `proc-j${round}b`)];
      await sleep(500 + Math.random() * 1500);
      for (const joiner of joiners) joiner.process.kill(Math.random() < 0.5 ? 'SIGTERM' : 'SIGKILL');
      await Promise.all(joiners.map((j) => j.exited));
    }
    const result = await load.stop();
    const verdict = await awaitInvariants(bed.pool, result.acknowledged, initial);
    report.record('rebalance storm', `${rounds} rounds of 2 processors joining then leaving (SIGTERM or SIGKILL)`, `${result.acknowledged.size} orders, 30 concurrent`, verdict, result);
    expectHealthy(verdict);
    expectNoServerErrors(result);
  });
});

