// Graceful shutdown: requests in flight when the api stops are answered (202 or 503, never a 500),
// every 202 is applied; a processor stopped mid-backlog with SIGTERM exits 0 in time, and its
// successor finishes the backlog with nothing lost or doubled.
import { expect } from 'chai';
import { eventually, makeOrder, orderMessage, produceAll, putProducts, stockOf, testBed, totals, type TestBed } from '../support/fixtures.js';
import { envFor, spawnRole } from '../support/child.js';
import { startedService } from '../support/service.js';

describe('graceful shutdown', () => {
  let bed: TestBed;
  before(async () => {
    bed = await testBed(3);
  });
  after(() => bed.close());

  it('answers the api requests in flight and applies every acknowledged order', async () => {
    const product = `${bed.tag}-S`;
    await putProducts(bed.pool, { [product]: 1_000_000 });
    const api = await startedService(bed.config, ['api']);
    const user = `${bed.tag}-inflight`;
    const send = () =>
      fetch(`http://127.0.0.1:${api.port}/order-service/${user}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ productId: product, qty: 1, unitPrice: 100 }), // the catalog's price: these are ACCEPTED
      }).then(
        async (r) => ({ status: r.status, body: (await r.json()) as { orderId?: string } }),
        () => ({ status: 0, body: {} as { orderId?: string } }), // refused: the server had stopped listening, nothing acknowledged
      );
    let answered = 0;
    const inFlight = Array.from({ length: 600 }, () => send().finally(() => answered++));
    // Stop once the api is visibly busy: some answered, most still in flight.
    await eventually('first answers', async () => answered, (n) => n >= 20);
    const stopping = api.stop();
    const results = await Promise.all(inFlight);
    await stopping;

    const statuses = new Set(results.map((r) => r.status));
    for (const status of statuses) expect([0, 202, 503]).to.include(status);
    const acknowledged = results.filter((r) => r.status === 202).map((r) => r.body.orderId!);
    expect(acknowledged.length, 'some requests were in flight and answered').to.be.greaterThan(0);

    const processor = await startedService(bed.config, ['processor']);
    try {
      await eventually('acknowledged orders applied', () => totals(bed.pool, user), (t) => t.orders >= acknowledged.length);
      const { rows } = await bed.pool.query('SELECT order_id::text, status FROM orders WHERE order_id = ANY($1::uuid[])', [acknowledged]);
      expect(rows.map((r) => r.status)).to.deep.equal(acknowledged.map(() => 'ACCEPTED'));
      // Stock identity: taken exactly once per order ACCEPTED, the in-flight ones included.
      const { accepted, acceptedQty } = await totals(bed.pool, user);
      expect(accepted).to.be.at.least(acknowledged.length);
      expect(await stockOf(bed.pool, [product])).to.deep.equal({ [product]: 1_000_000 - acceptedQty });
    } finally {
      await processor.stop();
    }
  });

  it('stops a processor mid-backlog on SIGTERM within the timeout; its successor finishes exactly', async () => {
    const product = `${bed.tag}-T`;
    await putProducts(bed.pool, { [product]: 10_000_000 });
    const orders = Array.from({ length: 30_000 }, () => makeOrder(bed, product, 1, `${bed.tag}-term`));
    await produceAll(bed, orders.map((o) => orderMessage(bed, o)));
    const env = envFor(bed.config, { PROCESSOR_BATCH_MAX_MESSAGES: '500', SHUTDOWN_TIMEOUT_MS: '10000', PROCESSOR_GROUP_ID: `${bed.tag}-term` });

    const first = spawnRole('processor', env, `${bed.tag}-term-1`);
    await first.started;
    await eventually('some applied', () => totals(bed.pool, `${bed.tag}-term`), (t) => t.orders > 1000);
    const signalledAt = Date.now();
    first.process.kill('SIGTERM');
    expect(await first.exited).to.equal(0);
    expect(Date.now() - signalledAt).to.be.below(10_000);
    expect((await totals(bed.pool, `${bed.tag}-term`)).orders).to.be.below(orders.length);

    const second = spawnRole('processor', env, `${bed.tag}-term-2`);
    try {
      await second.started;
      const done = await eventually('all applied', () => totals(bed.pool, `${bed.tag}-term`), (t) => t.orders === orders.length, 120_000);
      expect(done).to.deep.equal({ orders: 30_000, accepted: 30_000, acceptedQty: 30_000, rejected: 0 });
      const { rows } = await bed.pool.query('SELECT stock FROM catalog WHERE product_id = $1', [product]);
      expect(rows[0].stock).to.equal(10_000_000 - 30_000);
    } finally {
      second.process.kill('SIGTERM');
      await second.exited;
    }
  });
});
