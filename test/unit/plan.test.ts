import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { markDuplicates, plan, type BatchOrder } from '../../src/processor/plan.js';

let offset = 0;
function item(productId: string, qty: number, orderId: string = randomUUID(), partition = 0): BatchOrder {
  return {
    order: { orderId, userId: 'u1', productId, qty, unitPrice: 100, totalPrice: qty * 100, createdAt: 1 },
    partition,
    offset: offset++,
  };
}

describe('planner', () => {
  it('accepts while stock lasts, first come first served, then rejects OUT_OF_STOCK', () => {
    const batch = [item('P1', 3), item('P1', 5), item('P1', 2), item('P1', 1)];
    const result = plan(batch, new Map([['P1', 6]]), new Set());
    expect(result.verdicts.map((v) => v.status)).to.deep.equal(['ACCEPTED', 'REJECTED', 'ACCEPTED', 'ACCEPTED']);
    expect(result.verdicts[1]).to.include({ reason: 'OUT_OF_STOCK' });
    expect(result.stockDecrement.get('P1')).to.equal(6);
    expect(result.rows).to.have.length(4);
  });

  it('rejects products not in the catalog as UNKNOWN_PRODUCT and leaves stock alone', () => {
    const result = plan([item('NOPE', 1)], new Map([['P1', 10]]), new Set());
    expect(result.verdicts).to.deep.equal([{ orderId: result.rows[0]!.order.orderId, status: 'REJECTED', reason: 'UNKNOWN_PRODUCT' }]);
    expect(result.stockDecrement.size).to.equal(0);
  });

  it('marks orders already stored or repeated in the batch as DUPLICATE, with no row and no stock effect', () => {
    const stored = randomUUID();
    const repeated = randomUUID();
    const batch = [item('P1', 1, stored), item('P1', 2, repeated), item('P1', 2, repeated)];
    const result = plan(batch, new Map([['P1', 10]]), new Set([stored]));
    expect(result.verdicts.map((v) => v.status)).to.deep.equal(['DUPLICATE', 'ACCEPTED', 'DUPLICATE']);
    expect(result.rows.map((r) => r.order.orderId)).to.deep.equal([repeated]);
    expect(result.stockDecrement.get('P1')).to.equal(2);
  });

  it('keeps its invariants on generated random batches', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 300; round++) {
      const products = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) => `P${i}`);
      const stock = new Map(products.slice(1).map((p) => [p, Math.floor(random() * 30)])); // P0 is unknown
      const ids: string[] = Array.from({ length: 40 }, () => randomUUID());
      const existing = new Set(ids.filter(() => random() < 0.1));
      const batch = Array.from({ length: Math.floor(random() * 200) }, () =>
        item(products[Math.floor(random() * products.length)]!, 1 + Math.floor(random() * 8), ids[Math.floor(random() * ids.length)], Math.floor(random() * 3)),
      );
      const result = plan(batch, stock, existing);

      expect(result.verdicts).to.have.length(batch.length);
      // Each orderId applied at most once, and never one that was already stored.
      const rowIds = result.rows.map((r) => r.order.orderId);
      expect(new Set(rowIds).size).to.equal(rowIds.length);
      for (const id of rowIds) expect(existing.has(id)).to.equal(false);
      // Σ stock decrement = Σ accepted qty, per product, and stock never negative.
      const accepted = result.rows.filter((r) => r.status === 'ACCEPTED');
      for (const [product, initial] of stock) {
        const taken = accepted.filter((r) => r.order.productId === product).reduce((sum, r) => sum + r.order.qty, 0);
        expect(result.stockDecrement.get(product) ?? 0).to.equal(taken);
        expect(initial - taken).to.be.at.least(0);
      }
      expect(accepted.every((r) => stock.has(r.order.productId))).to.equal(true);
      // First come first served: an OUT_OF_STOCK order's qty exceeded the stock left at its turn,
      // so every rejection is justified by the accepted orders before it.
      const left = new Map(stock);
      for (const row of result.rows) {
        const available = left.get(row.order.productId);
        if (row.status === 'ACCEPTED') left.set(row.order.productId, available! - row.order.qty);
        else if (row.reason === 'OUT_OF_STOCK') expect(row.order.qty).to.be.greaterThan(available!);
        else expect(available).to.equal(undefined);
      }
    }
  });

  it('corrects a plan for already-stored orders exactly as a full replan would, or says it cannot', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let corrected = 0;
    let replans = 0;
    for (let round = 0; round < 300; round++) {
      const stock = new Map([['A', Math.floor(random() * 20)], ['B', Math.floor(random() * 20)]]);
      const batch = Array.from({ length: 30 }, () => item(random() < 0.5 ? 'A' : random() < 0.9 ? 'B' : 'X', 1 + Math.floor(random() * 4)));
      const stored = new Set(batch.filter(() => random() < 0.15).map((b) => b.order.orderId));
      const fast = markDuplicates(plan(batch, stock, new Set()), stored);
      const full = plan(batch, stock, stored);
      if (fast) {
        corrected++;
        expect(fast.verdicts).to.deep.equal(full.verdicts);
        expect(fast.rows).to.deep.equal(full.rows);
        expect([...fast.stockDecrement].sort()).to.deep.equal([...full.stockDecrement].sort());
      } else {
        // Refusing is always safe (the caller re-plans); it must happen only when a stored order
        // had taken stock before a refusal of the same product.
        replans++;
        const first = plan(batch, stock, new Set());
        const takers = new Set<string>();
        let starved = false;
        for (const r of first.rows) {
          if (stored.has(r.order.orderId) && r.status === 'ACCEPTED') takers.add(r.order.productId);
          else if (!stored.has(r.order.orderId) && r.reason === 'OUT_OF_STOCK' && takers.has(r.order.productId)) starved = true;
        }
        expect(starved).to.equal(true);
      }
    }
    expect(corrected).to.be.greaterThan(50);
    expect(replans).to.be.greaterThan(5);
  });
});
