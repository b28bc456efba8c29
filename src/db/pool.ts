// One pg pool per process. BIGINT columns (stock, prices, offsets) come back as JS numbers: every
// value we store is bounded well below 2^53 (see src/domain/order.ts), so nothing is rounded.
import pg from 'pg';
import { isConnectionError } from './errors.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

export function createPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000, application_name: 'order-stream' });
  // An idle client that loses its server emits here; without a listener the process would exit.
  pool.on('error', () => undefined);
  return pool;
}

const ignore = () => undefined;

/**
 * Runs `work` on a client checked out of the pool. While checked out, a client is not covered by
 * the pool's error listener: a server restart would emit 'error' on it with nobody listening and
 * crash the process. The query in flight fails anyway, which is how the caller learns of it.
 */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  client.on('error', ignore);
  let broken: Error | undefined;
  try {
    return await work(client);
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    client.off('error', ignore);
    // A client whose connection failed is destroyed rather than returned to the pool.
    client.release(broken && isConnectionError(broken) ? broken : undefined);
  }
}
