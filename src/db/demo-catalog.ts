// The demo catalog `npm run dev` starts with: CATALOG-0001 … CATALOG-0010, as in the notes.
// Existing products are left alone, so restarting dev never resets stock.
import type { Pool } from './pool.js';

const INSERT_MISSING = `
  INSERT INTO catalog (product_id, product_name, unit_price, stock)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
  ON CONFLICT (product_id) DO NOTHING`;

/** CATALOG-0001 costs 900, CATALOG-0002 1000, …: `order-stream produce` orders at these prices. */
export const demoProductId = (n: number) => `CATALOG-${String(n).padStart(4, '0')}`;
export const demoUnitPrice = (n: number) => 800 + 100 * n;

export async function loadDemoCatalog(pool: Pool): Promise<number> {
  const ids = Array.from({ length: 10 }, (_, i) => demoProductId(i + 1));
  const result = await pool.query(INSERT_MISSING, [
    ids,
    ids.map((_, i) => `Demo product ${i + 1}`),
    ids.map((_, i) => demoUnitPrice(i + 1)),
    ids.map(() => 100),
  ]);
  return result.rowCount ?? 0;
}
