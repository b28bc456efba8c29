// The I/O shell around the planner: one PostgreSQL transaction per batch, a constant number of
// round trips whatever the batch size.
//
//   1. lock the catalog rows of the batch's products, in product order (replicas never deadlock),
//      read the stored orders its cancellations name, and look up the batch's ids that the lane
//      stored with its previous batch (a client's quick retry repeats one; usually none)
//   2. plan (pure), assuming no other orderId or restockId of the batch is stored — true except
//      after a replay
//   3. COPY the new order and restock rows in (binary format): a plain insert, the way PostgreSQL
//      loads rows fastest. A stored id makes the COPY fail on its primary key (23505), which rolls
//      the whole transaction back: nothing of the batch is written, so a replayed id can never
//      change stock
//   4. cancel stored orders and change stock by the plan's numbers, in one statement
//   5. notify the verdicts api requests wait for (events marked awaited), commit
//
// After a failed COPY the batch runs once more from step 1, looking every id up before it plans.
// Assuming ids new spares that look-up (an index search per row) on the normal path, and a plain
// insert spares the second index search per row that INSERT … ON CONFLICT costs (its speculative
// insertion also writes more WAL). It all runs under the product locks, so the second plan sees
// what the first saw.
import { finished } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { BinaryCopy } from '../db/copy-binary.js';
import { withClient, type Pool, type PoolClient } from '../db/pool.js';
import { packVerdicts, VERDICT_CHANNEL, type Verdict } from '../domain/verdict.js';
import { plan, type BatchEvent, type OrderRow, type Plan, type Product, type RestockRow, type StoredOrder } from './plan.js';
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

// Which of the given ids are stored already: the few a lane's hint names, or after a failed COPY
// every id of the batch.
const READ_STORED = `
  SELECT order_id::text AS id FROM orders WHERE order_id = ANY($1::uuid[])
  UNION ALL
  SELECT restock_id::text FROM stock_additions WHERE restock_id = ANY($2::uuid[])`;

// The primary keys a replayed id collides with.
const REPLAY_CONSTRAINTS = new Set(['orders_pkey', 'stock_additions_pkey']);

// Column order of the COPY statements below; orderTuple and restockTuple write fields in it.
// processed_at takes its default, now().
const COPY_ORDERS = `COPY orders (order_id, user_id, product_id, qty, unit_price, total_price, status, reason,
  created_at, source_partition, source_offset, cancellation_id, cancelled_at) FROM STDIN (FORMAT binary)`;
const COPY_RESTOCKS = `COPY stock_additions (restock_id, product_id, qty, status, added_at, source_partition, source_offset) FROM STDIN (FORMAT binary)`;

// Runs after the rows went in, so only for a batch none of whose ids was stored. `cancelled` lets
// the caller check every planned cancellation found its ACCEPTED order (its row is locked above).
const WRITE_CHANGES = `
  WITH cancelled AS (
    UPDATE orders o SET status = 'CANCELLED', cancellation_id = c.cancellation_id, cancelled_at = to_timestamp(c.cancelled_ms / 1000.0)
    FROM unnest($1::uuid[], $2::uuid[], $3::bigint[]) AS c(order_id, cancellation_id, cancelled_ms)
    WHERE o.order_id = c.order_id AND o.status = 'ACCEPTED'
    RETURNING 1
  ), changed AS (
    UPDATE catalog SET stock = catalog.stock + d.change, updated_at = now()
    FROM unnest($4::text[], $5::bigint[]) AS d(product_id, change)
    WHERE catalog.product_id = d.product_id
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM cancelled)::int AS cancelled, (SELECT count(*) FROM changed)::int AS changed`;

// Verdicts reach waiting api requests when, and only when, the transaction commits.
const NOTIFY = `SELECT pg_notify('${VERDICT_CHANNEL}', payload) FROM unnest($1::text[]) AS payload`;

export interface Applied {
  plan: Plan;
  /** Order rows inserted (replayed ones excluded). */
  inserted: number;
}

/**
 * Applies one batch in one transaction. `recent` holds the event ids the caller's lane stored with
 * its previous batch, and is refilled with this batch's: a client's retry soon after its first try
 * repeats one of them, and looking those few up before planning is far cheaper than a COPY that
 * fails on them and a second pass that looks up every id. It is only a hint: any other stored id
 * still fails the COPY and takes the second pass.
 */
export async function applyBatch(pool: Pool, batch: readonly BatchEvent[], recent?: Set<string>): Promise<Applied> {
  return withClient(pool, async (client) => {
    let applied: Applied;
    try {
      applied = await transaction(client, () => applyIn(client, batch, recent ? (id) => recent.has(id) : () => false));
    } catch (err) {
      if (!isReplay(err)) throw err;
      applied = await transaction(client, () => applyIn(client, batch, () => true));
    }
    if (recent) remember(recent, applied.plan);
    return applied;
  });
}

function remember(recent: Set<string>, p: Plan): void {
  recent.clear();
  for (const row of p.orderRows) recent.add(row.order.orderId);
  for (const row of p.restockRows) recent.add(row.restock.restockId);
}

async function transaction<T>(client: PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The COPY met a stored orderId or restockId: the batch holds a replayed event. */
function isReplay(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string } | null;
  return e?.code === '23505' && REPLAY_CONSTRAINTS.has(e.constraint ?? '');
}

/** `lookUp` says which of the batch's ids to look up before planning (the others are assumed new). */
async function applyIn(client: PoolClient, batch: readonly BatchEvent[], lookUp: (id: string) => boolean): Promise<Applied> {
  const { productIds, cancelledOrderIds } = readSet(batch);
  const catalogRows = await client.query<{ product_id: string; stock: string | number; unit_price: string | number }>(LOCK_CATALOG, [productIds]);
  const catalog = new Map<string, Product>(catalogRows.rows.map((r) => [r.product_id, { stock: Number(r.stock), unitPrice: Number(r.unit_price) }]));
  const orders = cancelledOrderIds.length ? await readOrders(client, cancelledOrderIds) : new Map<string, StoredOrder>();
  const stored = await readStored(client, batch, lookUp);

  const result = plan(batch, { catalog, orders, stored });
  if (result.orderRows.length) await copyIn(client, COPY_ORDERS, result.orderRows, orderTuple);
  if (result.restockRows.length) await copyIn(client, COPY_RESTOCKS, result.restockRows, restockTuple);
  await writeChanges(client, result);
  await notify(client, result.verdicts.filter((_, i) => batch[i]!.awaited));
  return { plan: result, inserted: result.orderRows.length };
}

async function readOrders(client: PoolClient, orderIds: string[]): Promise<Map<string, StoredOrder>> {
  const { rows } = await client.query<{ order_id: string; user_id: string; product_id: string; qty: number; status: StoredOrder['status']; cancellation_id: string | null }>(READ_ORDERS, [orderIds]);
  return new Map(rows.map((r) => [r.order_id, { userId: r.user_id, productId: r.product_id, qty: r.qty, status: r.status, cancellationId: r.cancellation_id }]));
}

async function readStored(client: PoolClient, batch: readonly BatchEvent[], lookUp: (id: string) => boolean): Promise<Set<string>> {
  const orderIds: string[] = [];
  const restockIds: string[] = [];
  for (const item of batch) {
    if (item.type === 'OrderCreated' && lookUp(item.event.orderId)) orderIds.push(item.event.orderId);
    else if (item.type === 'StockAdded' && lookUp(item.event.restockId)) restockIds.push(item.event.restockId);
  }
  if (!orderIds.length && !restockIds.length) return new Set();
  const { rows } = await client.query<{ id: string }>(READ_STORED, [orderIds, restockIds]);
  return new Set(rows.map((r) => r.id));
}

async function copyIn<T>(client: PoolClient, sql: string, rows: readonly T[], write: (copy: BinaryCopy, row: T) => void): Promise<void> {
  const copy = new BinaryCopy(rows.length * 160);
  for (const row of rows) write(copy, row);
  const stream = client.query(copyFrom(sql));
  stream.end(copy.end());
  await finished(stream);
}

function orderTuple(copy: BinaryCopy, row: OrderRow): void {
  const o = row.order;
  copy.tuple(13).uuid(o.orderId).text(o.userId).text(o.productId).int4(o.qty).int8(o.unitPrice).int8(o.totalPrice).text(row.status);
  if (row.reason === null) copy.null();
  else copy.text(row.reason);
  copy.timestamptz(o.createdAt).int4(row.partition).int8(row.offset);
  if (row.cancellation === null) copy.null().null();
  else copy.uuid(row.cancellation.cancellationId).timestamptz(row.cancellation.cancelledAt);
}

function restockTuple(copy: BinaryCopy, row: RestockRow): void {
  const s = row.restock;
  copy.tuple(7).uuid(s.restockId).text(s.productId).int8(s.add).text(row.status).timestamptz(s.addedAt).int4(row.partition).int8(row.offset);
}

async function writeChanges(client: PoolClient, p: Plan): Promise<void> {
  const c = p.cancelRows;
  if (!c.length && !p.stockChange.size) return;
  const { rows: [result] } = await client.query<{ cancelled: number; changed: number }>(WRITE_CHANGES, [
    c.map((x) => x.orderId),
    c.map((x) => x.cancellationId),
    c.map((x) => x.cancelledAt),
    [...p.stockChange.keys()],
    [...p.stockChange.values()],
  ]);
  // Every cancelled order and changed product was locked and read before planning: a miss is a bug.
  if (result!.cancelled !== c.length || result!.changed !== p.stockChange.size) {
    throw new Error(`batch changes did not match the plan: ${result!.cancelled}/${c.length} cancellations, ${result!.changed}/${p.stockChange.size} products`);
  }
}

async function notify(client: PoolClient, verdicts: readonly Verdict[]): Promise<void> {
  if (verdicts.length) await client.query(NOTIFY, [packVerdicts(verdicts)]);
}
