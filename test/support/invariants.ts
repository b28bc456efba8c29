// The promise the chaos tests check after every scenario: each order answered 2xx is stored exactly
// once, stock = initial − Σ accepted qty, no stock below zero, nothing left pending once healthy.
import type { Pool } from '../../src/db/pool.js';
import type { Acknowledged } from './load.js';
import { eventually } from './eventually.js';

export interface Verdict {
  acknowledged: number;
  stored: number;
  lost: number;
  stockMismatches: string[];
  negativeStock: number;
}

export async function awaitInvariants(
  pool: Pool,
  acknowledged: Map<string, Acknowledged>,
  initialStock: Record<string, number>,
  timeoutMs = 120_000,
): Promise<Verdict> {
  const ids = [...acknowledged.keys()];
  const countStored = async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE order_id = ANY($1::uuid[])', [ids])).rows[0]!.n;
  // "Nothing stuck in PENDING once the system is healthy": every acknowledged order gets applied.
  // On timeout the verdict still comes back, with what is missing counted as lost.
  const stored = await eventually('every acknowledged order stored', countStored, (n) => n === ids.length, timeoutMs, 250).catch(countStored);
  const products = Object.keys(initialStock);
  const { rows: stock } = await pool.query<{ product_id: string; stock: number; taken: number }>(
    `SELECT c.product_id, c.stock, coalesce((SELECT sum(o.qty) FROM orders o WHERE o.product_id = c.product_id AND o.status = 'ACCEPTED'), 0)::bigint AS taken
     FROM catalog c WHERE c.product_id = ANY($1)`,
    [products],
  );
  const stockMismatches = stock
    .filter((r) => r.stock !== initialStock[r.product_id]! - r.taken)
    .map((r) => `${r.product_id}: stock ${r.stock}, initial ${initialStock[r.product_id]} − accepted ${r.taken}`);
  return {
    acknowledged: ids.length,
    stored,
    lost: ids.length - stored,
    stockMismatches,
    negativeStock: stock.filter((r) => r.stock < 0).length,
  };
}
