// The I/O shell around the planner: one PostgreSQL transaction per batch, a constant number of
// round trips whatever the batch size.
//
//   1. lock the catalog rows of the batch's products, in product order (replicas never deadlock),
//      and read the stored orders its cancellations name
//   2. plan (pure), assuming no orderId or restockId of the batch is stored yet — true except after
//      a replay
//   3. write the plan in one statement: insert orders and restocks, cancel stored orders, change
//      stock by the plan's numbers — the last two only if every insert went in
//   4. if some ids were stored already (a replay), undo to the savepoint, plan again knowing them,
//      write again
//   5. notify the verdicts api requests wait for (events marked awaited), commit
//
// Step 2 spares a lookup of every id on the normal path; replays pay one more round trip. It all
// runs under the product locks, so the second plan sees what the first saw.
import { withClient, type Pool, type PoolClient } from '../db/pool.js';
import { packVerdicts, VERDICT_CHANNEL, type Verdict } from '../domain/verdict.js';
import { plan, type BatchEvent, type Plan, type Product, type StoredOrder } from './plan.js';
import { readSet } from './topology.js';

// Fixed lock order by product_id, so two replicas locking overlapping products cannot deadlock.
// FOR NO KEY UPDATE serialises stock updates without blocking plain readers (the api).
const LOCK_CATALOG = `
  SELECT product_id, stock, unit_price FROM catalog
  WHERE product_id = ANY($1::text[])
  ORDER BY product_id
  FOR NO KEY UPDATE`;

// Orders named by cancellations. Their products are locked above, and only the processor that owns
// a product's partition changes its orders, so FOR UPDATE here only guards against a stray writer.
const READ_ORDERS = `
  SELECT order_id::text, user_id, product_id, qty, status, cancellation_id::text
  FROM orders WHERE order_id = ANY($1::uuid[])
  ORDER BY order_id
  FOR UPDATE`;

// One statement writes the whole plan. `complete` is true when every planned insert went in; only
// then are stored orders cancelled and stock changed, so a replayed id (ON CONFLICT skipped it)
// can never change stock: the caller rolls back to the savepoint and plans again.
const WRITE_PLAN = `
  WITH planned_orders AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::bigint[], $7::text[], $8::text[],
                         $9::bigint[], $10::int[], $11::bigint[], $12::uuid[], $13::bigint[])
      AS t(order_id, user_id, product_id, qty, unit_price, total_price, status, reason,
           created_ms, source_partition, source_offset, cancellation_id, cancelled_ms)
  ), inserted_orders AS (
    INSERT INTO orders (order_id, user_id, product_id, qty, unit_price, total_price, status, reason,
                        created_at, source_partition, source_offset, cancellation_id, cancelled_at)
    SELECT order_id, user_id, product_id, qty, unit_price, total_price, status, reason,
           to_timestamp(created_ms / 1000.0), source_partition, source_offset, cancellation_id, to_timestamp(cancelled_ms / 1000.0)
    FROM planned_orders
    ON CONFLICT (order_id) DO NOTHING
    RETURNING order_id
  ), planned_restocks AS (
    SELECT * FROM unnest($14::uuid[], $15::text[], $16::bigint[], $17::text[], $18::bigint[], $19::int[], $20::bigint[])
      AS t(restock_id, product_id, qty, status, added_ms, source_partition, source_offset)
  ), inserted_restocks AS (
    INSERT INTO stock_additions (restock_id, product_id, qty, status, added_at, source_partition, source_offset)
    SELECT restock_id, product_id, qty, status, to_timestamp(added_ms / 1000.0), source_partition, source_offset
    FROM planned_restocks
    ON CONFLICT (restock_id) DO NOTHING
    RETURNING restock_id
  ), complete AS (
    SELECT (SELECT count(*) FROM inserted_orders) + (SELECT count(*) FROM inserted_restocks) = $21::int AS ok
  ), cancelled AS (
    UPDATE orders o SET status = 'CANCELLED', cancellation_id = c.cancellation_id, cancelled_at = to_timestamp(c.cancelled_ms / 1000.0)
    FROM unnest($22::uuid[], $23::uuid[], $24::bigint[]) AS c(order_id, cancellation_id, cancelled_ms), complete
    WHERE complete.ok AND o.order_id = c.order_id AND o.status = 'ACCEPTED'
    RETURNING 1
  ), changed AS (
    UPDATE catalog SET stock = catalog.stock + d.change, updated_at = now()
    FROM unnest($25::text[], $26::bigint[]) AS d(product_id, change), complete
    WHERE complete.ok AND catalog.product_id = d.product_id
    RETURNING 1
  )
  SELECT (SELECT ok FROM complete) AS complete,
         (SELECT count(*) FROM cancelled)::int AS cancelled,
         (SELECT coalesce(array_agg(p.order_id::text), '{}') FROM planned_orders p
           WHERE NOT EXISTS (SELECT 1 FROM inserted_orders i WHERE i.order_id = p.order_id)) AS stored_orders,
         (SELECT coalesce(array_agg(p.restock_id::text), '{}') FROM planned_restocks p
           WHERE NOT EXISTS (SELECT 1 FROM inserted_restocks i WHERE i.restock_id = p.restock_id)) AS stored_restocks`;

// Verdicts reach waiting api requests when, and only when, the transaction commits.
const NOTIFY = `SELECT pg_notify('${VERDICT_CHANNEL}', payload) FROM unnest($1::text[]) AS payload`;

export interface Applied {
  plan: Plan;
  /** Order rows inserted (replayed ones excluded). */
  inserted: number;
}

export async function applyBatch(pool: Pool, batch: readonly BatchEvent[]): Promise<Applied> {
  return withClient(pool, async (client) => {
    await client.query('BEGIN');
    try {
      const applied = await applyIn(client, batch);
      await client.query('COMMIT');
      return applied;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}

async function applyIn(client: PoolClient, batch: readonly BatchEvent[]): Promise<Applied> {
  const { productIds, cancelledOrderIds } = readSet(batch);
  const catalogRows = await client.query<{ product_id: string; stock: string | number; unit_price: string | number }>(LOCK_CATALOG, [productIds]);
  const catalog = new Map<string, Product>(catalogRows.rows.map((r) => [r.product_id, { stock: Number(r.stock), unitPrice: Number(r.unit_price) }]));
  const orders = cancelledOrderIds.length ? await readOrders(client, cancelledOrderIds) : new Map<string, StoredOrder>();

  let result = plan(batch, { catalog, orders, stored: new Set() });
  await client.query('SAVEPOINT optimistic');
  let written = await writePlan(client, result);
  if (!written.complete) {
    await client.query('ROLLBACK TO SAVEPOINT optimistic');
    result = plan(batch, { catalog, orders, stored: new Set(written.stored) });
    written = await writePlan(client, result);
    // Under the product locks nothing else writes these ids: a second miss is a bug, not a race.
    if (!written.complete) throw new Error(`batch plan still conflicts after a replan (${written.stored.length} ids)`);
  }
  await notify(client, result.verdicts.filter((_, i) => batch[i]!.awaited));
  return { plan: result, inserted: result.orderRows.length };
}

async function readOrders(client: PoolClient, orderIds: string[]): Promise<Map<string, StoredOrder>> {
  const { rows } = await client.query<{ order_id: string; user_id: string; product_id: string; qty: number; status: StoredOrder['status']; cancellation_id: string | null }>(READ_ORDERS, [orderIds]);
  return new Map(rows.map((r) => [r.order_id, { userId: r.user_id, productId: r.product_id, qty: r.qty, status: r.status, cancellationId: r.cancellation_id }]));
}

/**
 * A PostgreSQL array literal, written directly: every value here is a number, a UUID, an id
 * matching [A-Za-z0-9._-] (validated before planning) or a fixed word, so none needs quoting, and
 * this skips pg's per-element escaping, which was a visible share of the apply time.
 */
function arrayLiteral<T>(rows: readonly T[], pick: (row: T) => string | number | null): string {
  let out = '{';
  for (let i = 0; i < rows.length; i++) {
    const v = pick(rows[i]!);
    out += (i ? ',' : '') + (v === null ? 'NULL' : v);
  }
  return out + '}';
}

async function writePlan(client: PoolClient, p: Plan): Promise<{ complete: boolean; stored: string[] }> {
  const o = p.orderRows;
  const r = p.restockRows;
  const c = p.cancelRows;
  const changes = [...p.stockChange];
  const { rows: [result] } = await client.query<{ complete: boolean; stored_orders: string[]; stored_restocks: string[] }>(WRITE_PLAN, [
    arrayLiteral(o, (x) => x.order.orderId),
    arrayLiteral(o, (x) => x.order.userId),
    arrayLiteral(o, (x) => x.order.productId),
    arrayLiteral(o, (x) => x.order.qty),
    arrayLiteral(o, (x) => x.order.unitPrice),
    arrayLiteral(o, (x) => x.order.totalPrice),
    arrayLiteral(o, (x) => x.status),
    arrayLiteral(o, (x) => x.reason),
    arrayLiteral(o, (x) => x.order.createdAt),
    arrayLiteral(o, (x) => x.partition),
    arrayLiteral(o, (x) => x.offset),
    arrayLiteral(o, (x) => x.cancellation?.cancellationId ?? null),
    arrayLiteral(o, (x) => x.cancellation?.cancelledAt ?? null),
    arrayLiteral(r, (x) => x.restock.restockId),
    arrayLiteral(r, (x) => x.restock.productId),
    arrayLiteral(r, (x) => x.restock.add),
    arrayLiteral(r, (x) => x.status),
    arrayLiteral(r, (x) => x.restock.addedAt),
    arrayLiteral(r, (x) => x.partition),
    arrayLiteral(r, (x) => x.offset),
    o.length + r.length,
    arrayLiteral(c, (x) => x.orderId),
    arrayLiteral(c, (x) => x.cancellationId),
    arrayLiteral(c, (x) => x.cancelledAt),
    arrayLiteral(changes, ([productId]) => productId),
    arrayLiteral(changes, ([, by]) => by),
  ]);
  return { complete: result!.complete, stored: [...result!.stored_orders, ...result!.stored_restocks] };
}

async function notify(client: PoolClient, verdicts: readonly Verdict[]): Promise<void> {
  if (verdicts.length) await client.query(NOTIFY, [packVerdicts(verdicts)]);
}
