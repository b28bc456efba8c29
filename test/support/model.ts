// The order lifecycle's semantics stated as simply as possible: a database (catalog, orders,
// restocks) and the rules applied one event at a time. The planner is property-tested against it
// (test/unit/plan.test.ts) and the processor end to end (test/integration/replay.test.ts).
import { expect } from 'chai';
import type { BatchEvent, Plan, Product, StoredOrder } from '../../src/processor/plan.js';
import type { Verdict } from '../../src/domain/verdict.js';

/** The database, and the rules applied one event at a time — the simplest statement of the semantics. */
export class Model {
  orders = new Map<string, StoredOrder>();
  restocks = new Set<string>();
  /** Units added by STOCKED restocks, per product. */
  restocked: Record<string, number> = {};
  constructor(public catalog: Map<string, Product>) {}

  clone(): Model {
    const copy = new Model(new Map([...this.catalog].map(([k, v]) => [k, { ...v }])));
    copy.orders = new Map([...this.orders].map(([k, v]) => [k, { ...v }]));
    copy.restocks = new Set(this.restocks);
    copy.restocked = { ...this.restocked };
    return copy;
  }

  catalogFor(batch: BatchEvent[]): Map<string, Product> {
    return new Map([...this.catalog].filter(([p]) => batch.some((e) => e.event.productId === p)));
  }

  apply(e: BatchEvent): Verdict {
    if (e.type === 'OrderCreated') {
      const o = e.event;
      const id = o.orderId;
      if (this.orders.has(id)) return { id, outcome: 'DUPLICATE' };
      const product = this.catalog.get(o.productId);
      const reason = !product ? 'UNKNOWN_PRODUCT' : product.unitPrice !== o.unitPrice ? 'PRICE_MISMATCH' : product.stock < o.qty ? 'OUT_OF_STOCK' : undefined;
      this.orders.set(id, { userId: o.userId, productId: o.productId, qty: o.qty, status: reason ? 'REJECTED' : 'ACCEPTED', cancellationId: null });
      if (reason) return { id, outcome: 'REJECTED', reason };
      product!.stock -= o.qty;
      return { id, outcome: 'ACCEPTED' };
    }
    if (e.type === 'OrderCancelled') {
      const c = e.event;
      const id = c.cancellationId;
      const order = this.orders.get(c.orderId);
      if (!order || order.userId !== c.userId || order.productId !== c.productId) return { id, outcome: 'REFUSED', reason: 'UNKNOWN_ORDER' };
      if (order.status === 'CANCELLED') return order.cancellationId === id ? { id, outcome: 'DUPLICATE' } : { id, outcome: 'REFUSED', reason: 'ALREADY_CANCELLED' };
      if (order.status === 'REJECTED') return { id, outcome: 'REFUSED', reason: 'NOT_ACCEPTED' };
      order.status = 'CANCELLED';
      order.cancellationId = id;
      this.catalog.get(c.productId)!.stock += order.qty;
      return { id, outcome: 'CANCELLED' };
    }
    const s = e.event;
    const id = s.restockId;
    if (this.restocks.has(id)) return { id, outcome: 'DUPLICATE' };
    this.restocks.add(id);
    const product = this.catalog.get(s.productId);
    if (!product) return { id, outcome: 'REFUSED', reason: 'UNKNOWN_PRODUCT' };
    product.stock += s.add;
    this.restocked[s.productId] = (this.restocked[s.productId] ?? 0) + s.add;
    return { id, outcome: 'STOCKED' };
  }

  /** What the SQL of src/processor/apply.ts does with a plan. */
  write(p: Plan): void {
    for (const r of p.orderRows) {
      expect(this.orders.has(r.order.orderId), 'an order inserted twice').to.equal(false);
      this.orders.set(r.order.orderId, { userId: r.order.userId, productId: r.order.productId, qty: r.order.qty, status: r.status, cancellationId: r.cancellation?.cancellationId ?? null });
    }
    for (const c of p.cancelRows) {
      const order = this.orders.get(c.orderId)!;
      expect(order.status).to.equal('ACCEPTED');
      Object.assign(order, { status: 'CANCELLED', cancellationId: c.cancellationId });
    }
    for (const r of p.restockRows) {
      this.restocks.add(r.restock.restockId);
      if (r.status === 'STOCKED') this.restocked[r.restock.productId] = (this.restocked[r.restock.productId] ?? 0) + r.restock.add;
    }
    for (const [product, by] of p.stockChange) this.catalog.get(product)!.stock += by;
  }

  snapshot() {
    return { catalog: [...this.catalog].sort(), orders: [...this.orders].sort(), restocks: [...this.restocks].sort() };
  }
}
