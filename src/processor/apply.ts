// The I/O shell around the planner: one PostgreSQL transaction per batch, a constant number of
// round trips whatever the batch size.
//
//   1. lock the catalog rows of the batch's products, in product order (replicas never deadlock)
//   2. read which orderIds are already stored (after the lock: a concurrent batch on the same
//      products has committed by then, so we see its orders)
//   3. plan (pure)
//   4. insert the rows and take the stock in one statement
//   5. notify waiting api requests of the verdicts, commit
import type { Pool, PoolClient } from '../db/pool.js';
import { plan, type BatchOrder, type Plan } from './plan.js';
import { notifyVerdicts } from './verdicts.js';

// Fixed lock order by product_id, so two replicas locking overlapping products cannot deadlock.
// FOR NO KEY UPDATE serialises stock updates without blocking plain readers (the api).
const LOCK_STOCK = `
  SELECT product_id, stock FROM catalog
  WHERE product_id = ANY($1::text[])
  ORDER BY product_id
  FOR NO KEY UPDATE`;

const EXISTING_ORDERS = `SELECT order_id::text AS order_id FROM orders WHERE order_id = ANY($1::uuid[])`;

// Stock is taken from what was really inserted (RETURNING), not from the plan: if another batch
// stored one of these orderIds in between (an orderId reused across products lives in another
// partition), ON CONFLICT skips it and its qty is not taken. So stock and orders never disagree.
const INSERT_ORDERS_TAKE_STOCK = `
  WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::bigint[],
                         $7::text[], $8::text[], $9::bigint[], $10::int[], $11::bigint[])
      AS t(order_id, user_id, product_id, qty, unit_price, total_price, status, reason, created_ms, source_partition, source_offset)
  ), inserted AS (
    INSERT INTO orders (order_id, user_id, product_id, qty, unit_price, total_price, status, reason,
                        created_at, source_partition, source_offset)
    SELECT order_id, user_id, product_id, qty, unit_price, total_price, status, reason,
           to_timestamp(created_ms / 1000.0), source_partition, source_offset
    FROM input
    ON CONFLICT (order_id) DO NOTHING
    RETURNING product_id, qty, status
  ), taken AS (
    UPDATE catalog c SET stock = c.stock - d.qty, updated_at = now()
    FROM (SELECT product_id, sum(qty) AS qty FROM inserted WHERE status = 'ACCEPTED' GROUP BY product_id) d
    WHERE c.product_id = d.product_id
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM taken)::int AS products`;

export interface Applied {
  plan: Plan;
  inserted: number;
}

export async function applyBatch(pool: Pool, batch: readonly BatchOrder[]): Promise<Applied> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      const applied = await applyIn(client, batch);
      await client.query('COMMIT');
      return applied;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    client.release();
  }
}

async function applyIn(client: PoolClient, batch: readonly BatchOrder[]): Promise<Applied> {
  const productIds = [...new Set(batch.map((b) => b.order.productId))];
  const orderIds = batch.map((b) => b.order.orderId);
  const stockRows = await client.query<{ product_id: string; stock: number }>(LOCK_STOCK, [productIds]);
  const existingRows = await client.query<{ order_id: string }>(EXISTING_ORDERS, [orderIds]);

  const result = plan(
    batch,
    new Map(stockRows.rows.map((r) => [r.product_id, r.stock])),
    new Set(existingRows.rows.map((r) => r.order_id)),
  );

  let inserted = 0;
  if (result.rows.length) {
    const rows = result.rows;
    const { rows: [counts] } = await client.query<{ inserted: number }>(INSERT_ORDERS_TAKE_STOCK, [
      rows.map((r) => r.order.orderId),
      rows.map((r) => r.order.userId),
      rows.map((r) => r.order.productId),
      rows.map((r) => r.order.qty),
      rows.map((r) => r.order.unitPrice),
      rows.map((r) => r.order.totalPrice),
      rows.map((r) => r.status),
      rows.map((r) => r.reason),
      rows.map((r) => r.order.createdAt),
      rows.map((r) => r.partition),
      rows.map((r) => r.offset),
    ]);
    inserted = counts?.inserted ?? 0;
  }
  await notifyVerdicts(client, result.verdicts);
  return { plan: result, inserted };
}
