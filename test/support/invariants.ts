// The promise the chaos tests check after every scenario: each order, cancellation and restock
// answered 2xx is applied exactly once; stock = initial + Σ restocks − Σ qty of the orders ACCEPTED
// and not CANCELLED, product by product (every product of the scenario has its row); nothing
// left pending once healthy. (Stock below zero needs no check: the table's CHECK refuses it.)
import type { Pool } from '../../src/db/pool.js';
import type { Acknowledged, Command } from './load.js';
import { eventually } from './eventually.js';

export interface Verdict {
  acknowledged: number;
  stored: number;
  lost: number;
  /** Cancellations and restocks acknowledged, and those not applied. */
  commands: number;
  lostCommands: number;
  stockMismatches: string[];
}

export async function awaitInvariants(
  pool: Pool,
  acknowledged: Map<string, Acknowledged>,
  initialStock: Record<string, number>,
  timeoutMs = 120_000,
  commands: ReadonlyMap<string, Command> = new Map(),
): Promise<Verdict> {
  const ids = [...acknowledged.keys()];
  const countStored = async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE order_id = ANY($1::uuid[])', [ids])).rows[0]!.n;
  // "Nothing stuck in PENDING once the system is healthy": every acknowledged order gets applied.
  // On timeout the verdict still comes back, with what is missing counted as lost.
  const stored = await eventually('every acknowledged order stored', countStored, (n) => n === ids.length, timeoutMs, 250).catch(countStored);

  // A restock is applied when recorded; a cancellation when its order is CANCELLED by it, or the
  // order was REJECTED (nothing to give back: refused, as documented).
  const restockIds = [...commands].filter(([, c]) => c.kind === 'restock').map(([id]) => id);
  const cancellations = [...commands].filter(([, c]) => c.kind === 'cancel');
  const countApplied = async () => {
    const restocks = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM stock_additions WHERE restock_id = ANY($1::uuid[])', [restockIds])).rows[0]!.n;
    const cancels = (await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM orders o JOIN unnest($1::uuid[], $2::uuid[]) AS c(order_id, cancellation_id) USING (order_id)
       WHERE (o.status = 'CANCELLED' AND o.cancellation_id = c.cancellation_id) OR o.status = 'REJECTED'`,
      [cancellations.map(([, c]) => c.orderId), cancellations.map(([id]) => id)],
    )).rows[0]!.n;
    return restocks + cancels;
  };
  const applied = await eventually('every acknowledged command applied', countApplied, (n) => n === commands.size, timeoutMs, 250).catch(countApplied);

  const products = Object.keys(initialStock);
  const { rows: stock } = await pool.query<{ product_id: string; stock: number; taken: number; added: number }>(
    `SELECT c.product_id, c.stock,
            coalesce((SELECT sum(o.qty) FROM orders o WHERE o.product_id = c.product_id AND o.status = 'ACCEPTED'), 0)::bigint AS taken,
            coalesce((SELECT sum(r.qty) FROM stock_additions r WHERE r.product_id = c.product_id AND r.status = 'STOCKED'), 0)::bigint AS added
     FROM catalog c WHERE c.product_id = ANY($1)`,
    [products],
  );
  const stockMismatches = stock
    .filter((r) => r.stock !== initialStock[r.product_id]! + r.added - r.taken)
    .map((r) => `${r.product_id}: stock ${r.stock}, initial ${initialStock[r.product_id]} + restocked ${r.added} − accepted and not cancelled ${r.taken}`)
    .concat(products.filter((p) => !stock.some((r) => r.product_id === p)).map((p) => `${p}: no catalog row`));
  return {
    acknowledged: ids.length,
    stored,
    lost: ids.length - stored,
    commands: commands.size,
    lostCommands: commands.size - applied,
    stockMismatches,
  };
}
