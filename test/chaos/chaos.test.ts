// Faults injected under load, against the real stack with api and processor replicas as child
// processes. After every scenario the same invariants are checked (test/support/invariants.ts).
// CHAOS=full (npm run test:chaos) runs the sizes RELIABILITY.md reports; the default is the short
// variant that npm test runs in CI.
import { expect } from 'chai';

import avro from 'avsc';
import Kafka from '@confluentinc/kafka-javascript';
import { testBed, putProducts, produceAll, orderMessage, makeOrder, type TestBed } from '../support/fixtures.js';
import { envFor, spawnRole, type Child } from '../support/child.js';
import { startLoad } from '../support/load.js';
import { awaitInvariants, type Verdict } from '../support/invariants.js';
import { startKafka, stopKafka, startPostgres, stopPostgres } from '../support/stack-control.js';
import { createAdmin } from '../../src/kafka/clients.js';
import { ORDER_CREATED_SCHEMA } from '../../src/serde/order-serde.js';
import { frame } from '../../src/serde/wire.js';

const full = process.env.CHAOS === 'full';
const scale = <T>(short: T, long: T): T => (full ? long : short);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One line per scenario, printed at the end for RELIABILITY.md. */
const report: string[] = [];
function record(name: string, injected: string, load: string, verdict: Verdict) {
  report.push(`| ${name} | ${injected} | ${load} | ${verdict.acknowledged} acknowledged, ${verdict.lost} lost, ${verdict.stockMismatches.length} stock mismatches, ${verdict.negativeStock} negative |`);
}
function expectHealthy(verdict: Verdict) {
  expect(verdict.lost, 'acknowledged orders not applied').to.equal(0);
  expect(verdict.stockMismatches, 'stock = initial − Σ accepted qty').to.deep.equal([]);
  expect(verdict.negativeStock).to.equal(0);
}

describe(`chaos (${full ? 'full' : 'short'})`, function () {
  this.timeout(scale(300_000, 1_800_000));
  let bed: TestBed;
  const children: Child[] = [];
  const products = (tag: string) => Array.from({ length: 20 }, (_, i) => `${tag}-P${i}`);
  const catalog = (tag: string, stock: number) => Object.fromEntries(products(tag).map((p) => [p, stock]));

  async function spawn(role: 'api' | 'processor', name: string, extra: Record<string, string> = {}): Promise<Child & { port: number }> {
    const child = spawnRole(role, envFor(bed.config, extra), `${bed.tag}-${name}`);
    children.push(child);
    return Object.assign(child, { port: await child.started });
  }

  beforeEach(async () => {
    bed = await testBed(6);
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.process.exitCode === null) child.process.kill('SIGKILL');
    await bed.close();
  });
  after(() => console.log(`\n| scenario | injected | load | result |\n|---|---|---|---|\n${report.join('\n')}`));

  it('processor killed with SIGKILL at random points, again and again, under load', async () => {
    const initial = catalog(bed.tag, 1_000_000);
    await putProducts(bed.pool, initial);
    const apis = [await spawn('api', 'api-1'), await spawn('api', 'api-2')];
    let processors = [await spawn('processor', 'proc-a-0'), await spawn('processor', 'proc-b-0')];
    const total = scale(20_000, 100_000);
    const load = startLoad({ ports: () => apis.map((a) => a.port), products: products(bed.tag), user: `${bed.tag}-u`, concurrency: 40, total });
    // At least `cycles` kills, and kills for as long as the load runs.
    let cycles = 0;
    for (let cycle = 1; cycle <= scale(6, 20) || !load.done; cycle++) {
      cycles = cycle;
      await sleep(200 + Math.random() * scale(800, 1500));
      const victim = Math.floor(Math.random() * processors.length);
      processors[victim]!.process.kill('SIGKILL');
      await processors[victim]!.exited;
      processors[victim] = await spawn('processor', `proc-${victim}-${cycle}`);
    }
    const result = await load.stop();
    const verdict = await awaitInvariants(bed.pool, result.acknowledged, initial);
    record('processor SIGKILL', `${cycles} kills at random moments`, `${result.acknowledged.size} orders via 2 api replicas, 40 concurrent`, verdict);
    expectHealthy(verdict);
    expect(result.statuses.get(500) ?? 0).to.equal(0);
    expect(processors.length).to.equal(2);
  });

  it('Kafka broker stopped and restarted under load: 503 while down, recovery by itself', async () => {
    const initial = catalog(bed.tag, 1_000_000);
    await putProducts(bed.pool, initial);
    const extra = { API_PRODUCE_TIMEOUT_MS: '2000' };
    const apis = [await spawn('api', 'api-1', extra), await spawn('api', 'api-2', extra)];
    await spawn('processor', 'proc-1');
    const load = startLoad({ ports: () => apis.map((a) => a.port), products: products(bed.tag), user: `${bed.tag}-u`, concurrency: 20 });
    await sleep(2000);
    const before = load.count;
    await stopKafka();
    await sleep(scale(5000, 15000));
    const unavailableWhileDown = load.statuses.get(503) ?? 0;
    await startKafka();
    // Recovered: new orders are acknowledged again.
    const afterRestart = load.count;
    for (let i = 0; i < 600 && load.count < afterRestart + 200; i++) await sleep(100);
    const result = await load.stop();
    const verdict = await awaitInvariants(bed.pool, result.acknowledged, initial);
    record('Kafka broker stop/start', `broker down ${scale(5, 15)} s`, `${result.acknowledged.size} orders, 20 concurrent`, verdict);
    expectHealthy(verdict);
    expect(before).to.be.greaterThan(0);
    expect(unavailableWhileDown, '503 answers while Kafka was down').to.be.greaterThan(0);
    expect(result.statuses.get(500) ?? 0).to.equal(0);
    expect(result.slowestMs, 'no request hung').to.be.below(10_000);
    expect(load.count).to.be.at.least(afterRestart + 200);
  });

  it('PostgreSQL restarted under load: the processor retries and resumes', async () => {
    const initial = catalog(bed.tag, 1_000_000);
    await putProducts(bed.pool, initial);
    const apis = [await spawn('api', 'api-1')];
    await spawn('processor', 'proc-1');
    const load = startLoad({ ports: () => apis.map((a) => a.port), products: products(bed.tag), user: `${bed.tag}-u`, concurrency: 20 });
    await sleep(2000);
    await stopPostgres();
    await sleep(scale(3000, 10000));
    await startPostgres();
    await sleep(3000);
    const result = await load.stop();
    const verdict = await awaitInvariants(bed.pool, result.acknowledged, initial);
    record('PostgreSQL stop/start', `database down ${scale(3, 10)} s`, `${result.acknowledged.size} orders, 20 concurrent`, verdict);
    expectHealthy(verdict);
    expect(result.statuses.get(500) ?? 0).to.equal(0);
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
        : frame(bed.serde.registeredId, type.toBuffer({ ...makeOrder(bed, order.productId, 1), qty: -i - 1, totalPrice: (-i - 1) * 100 }));
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
    let inDlq = 0;
    for (let i = 0; i < 600 && inDlq < malformed; i++) {
      inDlq = await dlqCount();
      if (inDlq < malformed) await sleep(100);
    }
    admin.disconnect();
    record('malformed messages', `${malformed} malformed (garbage, unknown schema id, negative qty) among ${malformed} valid`, 'pre-produced backlog, 2 processors', verdict);
    expectHealthy(verdict);
    expect(inDlq).to.equal(malformed);
  });

  it('rebalance storm: processors joining and leaving under load', async () => {
    const initial = catalog(bed.tag, 1_000_000);
    await putProducts(bed.pool, initial);
    const apis = [await spawn('api', 'api-1'), await spawn('api', 'api-2')];
    await spawn('processor', 'proc-stable');
    const load = startLoad({ ports: () => apis.map((a) => a.port), products: products(bed.tag), user: `${bed.tag}-u`, concurrency: 30 });
    const rounds = scale(4, 12);
    for (let round = 0; round < rounds; round++) {
      const joiners = [await spawn('processor', `proc-j${round}a`), await spawn('processor', `proc-j${round}b`)];
      await sleep(500 + Math.random() * 1500);
      for (const joiner of joiners) joiner.process.kill(Math.random() < 0.5 ? 'SIGTERM' : 'SIGKILL');
      await Promise.all(joiners.map((j) => j.exited));
    }
    const result = await load.stop();
    const verdict = await awaitInvariants(bed.pool, result.acknowledged, initial);
    record('rebalance storm', `${rounds} rounds of 2 processors joining then leaving (SIGTERM or SIGKILL)`, `${result.acknowledged.size} orders, 30 concurrent`, verdict);
    expectHealthy(verdict);
    expect(result.statuses.get(500) ?? 0).to.equal(0);
  });
});

