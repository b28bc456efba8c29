// One pg pool per process. BIGINT columns (stock, prices, offsets) come back as JS numbers: every
// value we store is bounded well below 2^53 (see src/domain/order.ts), so nothing is rounded.
import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

export function createPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000, application_name: 'order-stream' });
  // An idle client that loses its server emits here; without a listener the process would exit.
  pool.on('error', () => undefined);
  return pool;
}
