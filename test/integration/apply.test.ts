// The apply step against real PostgreSQL, batch by batch: the binary COPY path, the lane's hint for
// quick repeats, and the second pass after a COPY that met a stored id.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { createPool, type Pool } from '../../src/db/pool.js';
import { migrate } from '../../src/db/migrate.js';
import { applyBatch } from '../../src/processor/apply.js';
import type { BatchEvent } from '../../src/processor/plan.js';
import { putProducts, stockOf } from '../support/fixtures.js';
import { stackConfig } from '../support/env.js';

describe('apply (real PostgreSQL)', () => {
  let pool: Pool;
  const tag = `a${Date.now().toString(36)}`;
  const product = `${tag}-P`;
  let offset = 0;
  const created = (qty: number, orderId: string = randomUUID()): BatchEvent => ({
    type: 'OrderCreated', event: { orderId, userId: `${tag}-u`, productId: product, qty, unitPrice: 100, totalPrice: qty * 100, createdAt: Date.UTC(2026, 11, 2, 12, 0, 0, 7) }, partition: 0, offset: offset++,
  });
  const restocked = (add: number, restockId: string = randomUUID()): BatchEvent => ({
    type: 'StockAdded', event: { restockId, productId: product, add, addedAt: Date.UTC(2026, 11, 2, 12, 0, 1) }, partition: 0, offset: offset++,
  });
  const outcomes = (verdicts: { outcome: string }[]) => verdicts.map((v) => v.outcome);

  before(async () => {
    pool = createPool(stackConfig().database.url, 2);
    await migrate(pool);
  });
  after(() => pool.end());
  beforeEach(() => putProducts(pool, { [product]: 100 }));

  it('writes every column as planned, timestamps to the millisecond, and refills the lane hint', async () => {
    const order = created(3);
    const restock = restocked(5);
    const hint = new Set(['left over from an earlier batch']);
    const { plan } = await applyBatch(pool, [order, restock], hint);
    expect(outcomes(plan.verdicts)).to.deep.equal(['ACCEPTED', 'STOCKED']);
    const { rows: [row] } = await pool.query(`SELECT user_id, product_id, qty, unit_price, total_price, status, reason, created_at, source_partition, source_offset, cancellation_id FROM orders WHERE order_id = $1`, [(order.event as { orderId: string }).orderId]);
    expect(row).to.deep.equal({ user_id: `${tag}-u`, product_id: product, qty: 3, unit_price: 100, total_price: 300, status: 'ACCEPTED', reason: null, created_at: new Date(Date.UTC(2026, 11, 2, 12, 0, 0, 7)), source_partition: 0, source_offset: order.offset, cancellation_id: null });
    const { rows: [added] } = await pool.query(`SELECT qty, status, added_at FROM stock_additions WHERE restock_id = $1`, [(restock.event as { restockId: string }).restockId]);
    expect(added).to.deep.equal({ qty: 5, status: 'STOCKED', added_at: new Date(Date.UTC(2026, 11, 2, 12, 0, 1)) });
    expect(await stockOf(pool, [product])).to.deep.equal({ [product]: 102 });
    expect([...hint].sort()).to.deep.equal([(order.event as { orderId: string }).orderId, (restock.event as { restockId: string }).restockId].sort());
  });

  it('a repeat of the lane’s previous batch is a DUPLICATE and changes nothing', async () => {
    const first = created(10);
    const hint = new Set<string>();
    await applyBatch(pool, [first, created(1)], hint);
    const { plan, inserted } = await applyBatch(pool, [{ ...first, offset: offset++ }, created(2)], hint);
    expect(outcomes(plan.verdicts)).to.deep.equal(['DUPLICATE', 'ACCEPTED']);
    expect(inserted).to.equal(1);
    expect(await stockOf(pool, [product])).to.deep.equal({ [product]: 100 - 10 - 1 - 2 });
  });

  it('a stored id the hint does not name fails the COPY, and the second pass applies the rest exactly once', async () => {
    const first = created(10);
    const restock = restocked(7);
    await applyBatch(pool, [first, restock]);
    // A new lane (no hint): the repeats come after new events, so the failed COPY had written some.
    const later = created(4);
    const { plan } = await applyBatch(pool, [later, { ...first, offset: offset++ }, { ...restock, offset: offset++ }, created(1)], new Set());
    expect(outcomes(plan.verdicts)).to.deep.equal(['ACCEPTED', 'DUPLICATE', 'DUPLICATE', 'ACCEPTED']);
    expect(await stockOf(pool, [product])).to.deep.equal({ [product]: 100 - 10 + 7 - 4 - 1 });
    const { rows: [count] } = await pool.query(`SELECT count(*)::int AS n FROM orders WHERE order_id = $1`, [(later.event as { orderId: string }).orderId]);
    expect(count.n).to.equal(1);
  });

  it('a failure that is not a stored id is not mistaken for a replay: nothing of the batch is written', async () => {
    // stock_additions.qty > 0 holds in every plan; an event that breaks it stands for a bug.
    const order = created(1);
    const bad = restocked(1);
    (bad.event as { add: number }).add = 0;
    let failure: unknown;
    await applyBatch(pool, [order, bad]).catch((err: unknown) => (failure = err));
    expect((failure as { code?: string }).code).to.equal('23514');
    const { rows: [count] } = await pool.query(`SELECT count(*)::int AS n FROM orders WHERE order_id = $1`, [(order.event as { orderId: string }).orderId]);
    expect(count.n).to.equal(0);
    expect(await stockOf(pool, [product])).to.deep.equal({ [product]: 100 });
  });
});
