// Exactly-once effects of a mixed stream on the real stack: creations, cancellations and restocks,
// with duplicated events, applied by the processor, agree with the one-event-at-a-time model
// (test/support/model.ts); a full replay from offset 0 by a second group changes nothing; and the
// stock identity holds: stock = initial + Σ restocks − Σ qty of orders ACCEPTED and not CANCELLED.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { eventually, makeOrder, produceAll, putProducts, startProcessor, stockOf, testBed, type TestBed } from '../support/fixtures.js';
import { Model } from '../support/model.js';
import type { BatchEvent, Product } from '../../src/processor/plan.js';
import type { OrderCreated, OrderEvent } from '../../src/domain/order.js';
import type { Processor } from '../../src/processor/processor.js';

describe('mixed stream, exactly once (real Kafka and PostgreSQL)', () => {
  let bed: TestBed;
  const running: Processor[] = [];
  before(async () => {
    bed = await testBed(1); // one partition: the topic's order is the model's order
  });
  after(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
    await bed.close();
  });

  it('agrees with the sequential model, and a replay from offset 0 changes nothing', async () => {
    const initial = { [`${bed.tag}-A`]: 30, [`${bed.tag}-B`]: 5 };
    const products = Object.keys(initial);
    await putProducts(bed.pool, initial);
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const choose = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const placed: OrderCreated[] = [];
    const events: OrderEvent[] = [];
    for (let i = 0; i < 600; i++) {
      const dice = random();
      const product = choose(products);
      if (dice < 0.6 || placed.length === 0) {
        const order = makeOrder(bed, product, 1 + Math.floor(random() * 4));
        placed.push(order);
        events.push({ type: 'OrderCreated', event: order });
      } else if (dice < 0.8) {
        const order = choose(placed);
        events.push({ type: 'OrderCancelled', event: { cancellationId: randomUUID(), orderId: order.orderId, userId: order.userId, productId: order.productId, cancelledAt: Date.now() } });
      } else if (dice < 0.9) {
        events.push({ type: 'StockAdded', event: { restockId: randomUUID(), productId: product, add: 1 + Math.floor(random() * 10), addedAt: Date.now() } });
      } else {
        events.push(choose(events)); // a duplicate: the same event delivered again
      }
    }
    await produceAll(bed, events.map((e) => ({ topic: bed.config.kafka.ordersTopic, key: e.event.productId, value: bed.serde.encode(e), partition: 0 })));

    const model = new Model(new Map<string, Product>(products.map((p) => [p, { stock: initial[p]!, unitPrice: 100 }])));
    const outcomes: Record<string, number> = {};
    events.forEach((e, offset) => {
      const { outcome } = model.apply({ ...e, partition: 0, offset } as BatchEvent);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    });
    // The stream exercises every path.
    for (const outcome of ['ACCEPTED', 'REJECTED', 'CANCELLED', 'STOCKED', 'REFUSED', 'DUPLICATE']) expect(outcomes[outcome], outcome).to.be.greaterThan(0);

    let consumed = 0;
    running.push(await startProcessor(bed, (s) => (consumed += s.messages)));
    await eventually('every event consumed', async () => consumed, (n) => n === events.length);
    const first = await stored(bed);
    expect(first).to.deep.equal(expected(model));
    expect(identity(first, initial)).to.deep.equal(first.stock);

    let replayed = 0;
    running.push(await startProcessor(bed, (s) => (replayed += s.messages), `${bed.tag}-replay`));
    await eventually('replay consumed', async () => replayed, (n) => n === events.length);
    expect(await stored(bed)).to.deep.equal(first);
  });
});

interface Stored {
  stock: Record<string, number>;
  orders: Array<[string, string, string | null]>;
  restocks: number;
  restocked: Record<string, number>;
  kept: Record<string, number>;
}

async function stored(bed: TestBed): Promise<Stored> {
  const orders = await bed.pool.query<{ order_id: string; status: string; cancellation_id: string | null }>(
    `SELECT order_id, status, cancellation_id FROM orders WHERE user_id LIKE $1 ORDER BY order_id`, [`${bed.tag}%`]);
  const restocks = await bed.pool.query<{ product_id: string; qty: number; status: string }>(`SELECT product_id, qty, status FROM stock_additions WHERE product_id LIKE $1`, [`${bed.tag}%`]);
  const kept = await bed.pool.query<{ product_id: string; qty: number }>(
    `SELECT product_id, sum(qty)::int AS qty FROM orders WHERE user_id LIKE $1 AND status = 'ACCEPTED' GROUP BY 1`, [`${bed.tag}%`]);
  const restocked: Record<string, number> = {};
  for (const r of restocks.rows) if (r.status === 'STOCKED') restocked[r.product_id] = (restocked[r.product_id] ?? 0) + r.qty;
  const stock = await stockOf(bed.pool, [`${bed.tag}-A`, `${bed.tag}-B`]);
  return {
    stock,
    orders: orders.rows.map((r) => [r.order_id, r.status, r.cancellation_id]),
    restocks: restocks.rowCount ?? 0,
    restocked,
    kept: Object.fromEntries(kept.rows.map((r) => [r.product_id, r.qty])),
  };
}

/** What the model says the tables hold. */
function expected(model: Model): Stored {
  const snapshot = model.snapshot();
  const kept: Record<string, number> = {};
  for (const [, o] of snapshot.orders) if (o.status === 'ACCEPTED') kept[o.productId] = (kept[o.productId] ?? 0) + o.qty;
  return {
    stock: Object.fromEntries(snapshot.catalog.map(([p, v]) => [p, v.stock])),
    orders: snapshot.orders.map(([id, o]) => [id, o.status, o.cancellationId]),
    restocks: snapshot.restocks.length,
    restocked: model.restocked,
    kept,
  };
}

/** stock = initial + Σ restocks − Σ qty of orders ACCEPTED and not CANCELLED, product by product. */
function identity(s: Stored, initial: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(initial).map(([p, start]) => [p, start + (s.restocked[p] ?? 0) - (s.kept[p] ?? 0)]));
}
