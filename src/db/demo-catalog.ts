// The demo catalog `npm run dev` starts with: CATALOG-0001 … CATALOG-0010, as in the notes.
// Existing products are left alone, so restarting dev never resets stock.
import type { Pool } from './pool.js';

const INSERT_MISSING = `
  INSERT INTO catalog (product_id, product_name, unit_price, stock)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
  ON CONFLICT (product_id) DO NOTHING`;

export async function loadDemoCatalog(pool: Pool): Promise<number> {
  const ids = Array.from({ length: 10 }, (_, i) => `CATALOG-${String(i + 1).padStart(4, '0')}`);
  const result = await pool.query(INSERT_MISSING, [
    ids,
    ids.map((_, i) => `Demo product ${i + 1}`),
    ids.map((_, i) => 900 + 100 * i),
    ids.map(() => 100),
  ]);
  return result.rowCount ?? 0;
}
