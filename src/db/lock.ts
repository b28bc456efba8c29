// Cross-process mutual exclusion on the database every replica already shares: a session-level
// advisory lock, released on unlock or when the connection drops (a killed holder frees it).
import { withClient, type Pool, type PoolClient } from './pool.js';

/** Arbitrary but fixed namespace for order-stream's named locks ("oslk"); the name picks the lock. */
const NAMESPACE = 0x6f736c6b;

/**
 * Runs `work` while holding the lock, on the connection that holds it. A string names one of
 * order-stream's locks; a number is a single 64-bit key (the migration lock predates names, and
 * changing its key would let an old and a new replica migrate at once during a rollout).
 */
export async function withAdvisoryLock<T>(pool: Pool, lock: string | number, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const [key, params] = typeof lock === 'number' ? ['$1', [lock]] : ['$1, hashtext($2)', [NAMESPACE, lock]];
  return withClient(pool, async (client) => {
    await client.query(`SELECT pg_advisory_lock(${key})`, params);
    try {
      return await work(client);
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${key})`, params);
    }
  });
}
