// Cross-process mutual exclusion on the database every replica already shares: a session-level
// advisory lock, released on unlock or when the connection drops (a killed holder frees it).
import { withClient, type Pool } from './pool.js';

/** Arbitrary but fixed namespace for order-stream's named locks ("oslk"); the name picks the lock. */
const NAMESPACE = 0x6f736c6b;

export async function withAdvisoryLock<T>(pool: Pool, name: string, work: () => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [NAMESPACE, name]);
    try {
      return await work();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [NAMESPACE, name]);
    }
  });
}
