import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { plan, type BatchEvent, type Product, type StoredOrder } from '../../src/processor/plan.js';
import type { Verdict } from '../../src/domain/verdict.js';
import { Model } from '../support/model.js';

let offset = 0;
const at = () => ({ partition: 0, offset: offset++ });
function created(productId: string, qty: number, orderId: string = randomUUID(), unitPrice = 100, userId = 'u1'): BatchEvent {
  return { type: 'OrderCreated', event: { orderId, userId, productId, qty, unitPrice, totalPrice: qty * unitPrice, createdAt: 1 }, ...at() };
}
function cancelled(orderId: string, productId: string, cancellationId: string = randomUUID(), userId = 'u1'): BatchEvent {
  return { type: 'OrderCancelled', event: { cancellationId, orderId, userId, productId, cancelledAt: 2 }, ...at() };
}
function restocked(productId: string, add: number, restockId: string = randomUUID()): BatchEvent {
  return { type: 'StockAdded', event: { restockId, productId, add, addedAt: 3 }, ...at() };
}
const catalog = (stock: Record<string, number>) => new Map<string, Product>(Object.entries(stock).map(([p, s]) => [p, { stock: s, unitPrice: 100 }]));
const state = (stock: Record<string, number>, orders = new Map<string, StoredOrder>(), stored = new Set<string>()) => ({ catalog: catalog(stock), orders, stored });
const outcomes = (verdicts: Verdict[]) => verdicts.map((v) => ('reason' in v ? `${v.outcome}:${v.reason}` : v.outcome));

describe('planner', () => {
  it('accepts while stock lasts, first come first served, then rejects OUT_OF_STOCK; the stock change is what was taken', () => {
    const result = plan([created('P1', 3), created('P1', 5), created('P1', 2), created('P1', 1)], state({ P1: 6 }));
    expect(outcomes(result.verdicts)).to.deep.equal(['ACCEPTED', 'REJECTED:OUT_OF_STOCK', 'ACCEPTED', 'ACCEPTED']);
    expect(result.stockChange.get('P1')).to.equal(-6);
    expect(result.orderRows).to.have.length(4);
  });

  it('rejects unknown products and prices that are not the catalog\'s, leaving stock alone', () => {
    const result = plan([created('NOPE', 1), created('P1', 1, randomUUID(), 90)], state({ P1: 10 }));
    expect(outcomes(result.verdicts)).to.deep.equal(['REJECTED:UNKNOWN_PRODUCT', 'REJECTED:PRICE_MISMATCH']);
    expect(result.stockChange.size).to.equal(0);
  });

  it('marks orders already stored or repeated in the batch as DUPLICATE, with no row and no stock effect', () => {
    const stored = randomUUID();
    const repeated = randomUUID();
    const result = plan([created('P1', 1, stored), created('P1', 2, repeated), created('P1', 2, repeated)], state({ P1: 10 }, new Map(), new Set([stored])));
    expect(outcomes(result.verdicts)).to.deep.equal(['DUPLICATE', 'ACCEPTED', 'DUPLICATE']);
    expect(result.orderRows.map((r) => r.order.orderId)).to.deep.equal([repeated]);
    expect(result.stockChange.get('P1')).to.equal(-2);
  });

  it('a cancellation gives an ACCEPTED order\'s qty back once; a second is refused, a replay is a DUPLICATE', () => {
    const orderId = randomUUID();
    const first = randomUUID();
    const orders = new Map<string, StoredOrder>([[orderId, { userId: 'u1', productId: 'P1', qty: 4, status: 'ACCEPTED', cancellationId: null }]]);
    const result = plan([cancelled(orderId, 'P1', first), cancelled(orderId, 'P1', first), cancelled(orderId, 'P1')], state({ P1: 0 }, orders));
    expect(outcomes(result.verdicts)).to.deep.equal(['CANCELLED', 'DUPLICATE', 'REFUSED:ALREADY_CANCELLED']);
    expect(result.cancelRows).to.deep.equal([{ orderId, cancellationId: first, cancelledAt: 2 }]);
    expect(result.stockChange.get('P1')).to.equal(4);
  });

  it('refuses cancelling a REJECTED order, an unknown one, or another user\'s', () => {
    const rejected = randomUUID();
    const theirs = randomUUID();
    const orders = new Map<string, StoredOrder>([
      [rejected, { userId: 'u1', productId: 'P1', qty: 4, status: 'REJECTED', cancellationId: null }],
      [theirs, { userId: 'u2', productId: 'P1', qty: 4, status: 'ACCEPTED', cancellationId: null }],
    ]);
    const result = plan([cancelled(rejected, 'P1'), cancelled(randomUUID(), 'P1'), cancelled(theirs, 'P1')], state({ P1: 0 }, orders));
    expect(outcomes(result.verdicts)).to.deep.equal(['REFUSED:NOT_ACCEPTED', 'REFUSED:UNKNOWN_ORDER', 'REFUSED:UNKNOWN_ORDER']);
    expect(result.stockChange.size).to.equal(0);
    expect(result.cancelRows).to.deep.equal([]);
  });

  it('an order created and cancelled in one batch is inserted CANCELLED, and its stock serves a later order', () => {
    const orderId = randomUUID();
    const result = plan([created('P1', 5, orderId), created('P1', 5), cancelled(orderId, 'P1'), created('P1', 5)], state({ P1: 5 }));
    expect(outcomes(result.verdicts)).to.deep.equal(['ACCEPTED', 'REJECTED:OUT_OF_STOCK', 'CANCELLED', 'ACCEPTED']);
    expect(result.orderRows[0]).to.include({ status: 'CANCELLED' });
    expect(result.cancelRows).to.deep.equal([]);
    expect(result.stockChange.get('P1')).to.equal(-5);
  });

  it('a restock lets a later order of the same batch be ACCEPTED; a restock of an unknown product is refused', () => {
    const result = plan([created('P1', 5), restocked('P1', 5), created('P1', 5), restocked('NOPE', 5)], state({ P1: 0 }));
    expect(outcomes(result.verdicts)).to.deep.equal(['REJECTED:OUT_OF_STOCK', 'STOCKED', 'ACCEPTED', 'REFUSED:UNKNOWN_PRODUCT']);
    expect(result.restockRows.map((r) => r.status)).to.deep.equal(['STOCKED', 'REFUSED']);
    expect(result.stockChange.has('P1')).to.equal(false); // +5 − 5
  });

  it('agrees with a one-event-at-a-time model on random mixed batches, replays included', function () {
    this.timeout(20_000);
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const choose = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    for (let round = 0; round < 300; round++) {
      const db = new Model(catalog({ A: Math.floor(random() * 20), B: Math.floor(random() * 20) }));
      const orderIds = Array.from({ length: 12 }, () => randomUUID());
      const eventIds = Array.from({ length: 12 }, () => randomUUID());
      const make = (): BatchEvent => {
        const dice = random();
        const product = choose(['A', 'A', 'B', 'X']);
        if (dice < 0.55) return created(product, 1 + Math.floor(random() * 6), choose(orderIds), random() < 0.1 ? 99 : 100, choose(['u1', 'u1', 'u2']));
        if (dice < 0.8) return cancelled(choose(orderIds), product, choose(eventIds), choose(['u1', 'u1', 'u2']));
        return restocked(product, 1 + Math.floor(random() * 6), choose(eventIds));
      };
      // Some history, applied one event at a time; then a batch that may replay part of it.
      const history = Array.from({ length: Math.floor(random() * 20) }, make);
      for (const e of history) db.apply(e);
      const batch = [...history.filter(() => random() < 0.3), ...Array.from({ length: Math.floor(random() * 40) }, make)];

      const expected = db.clone();
      const expectedVerdicts = batch.map((e) => expected.apply(e));
      // What the apply step gives the planner: the locked catalog, the orders cancellations name,
      // and (after a conflict) the ids already stored.
      const named = new Map([...db.orders].filter(([id]) => batch.some((e) => e.type === 'OrderCancelled' && e.event.orderId === id)));
      const stored = new Set([...db.orders.keys(), ...db.restocks]);
      const result = plan(batch, { catalog: db.catalogFor(batch), orders: named, stored });

      expect(result.verdicts).to.deep.equal(expectedVerdicts);
      const actual = db.clone();
      actual.write(result);
      expect(actual.snapshot()).to.deep.equal(expected.snapshot());
      for (const [, product] of actual.catalog) expect(product.stock).to.be.at.least(0);
    }
  });
});
