// Runs pending migrations under a PostgreSQL advisory lock, so any number of replicas may start at
// once: the first applies, the others wait for the lock and find nothing left to do.
import type { Pool } from './pool.js';
import { withAdvisoryLock } from './lock.js';
import { MIGRATIONS, type Migration } from './migrations.js';

/** Arbitrary but fixed: every order-stream process contends for the same lock. */
const LOCK_KEY = 0x6f726465; // "orde"

export interface MigrateOptions {
  migrations?: Migration[];
  /** Bookkeeping table; tests use their own to stay independent of the real schema. */
  table?: string;
  lockKey?: number;
}

/** Returns the versions this call applied (empty when another process had done it). */
export async function migrate(pool: Pool, options: MigrateOptions = {}): Promise<number[]> {
  const migrations = [...(options.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  const table = options.table ?? 'schema_migrations';
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`bad migrations table name ${table}`);

  const applied: number[] = [];
  await withAdvisoryLock(pool, options.lockKey ?? LOCK_KEY, async (client) => {
    await client.query(`CREATE TABLE IF NOT EXISTS ${table} (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${table}`);
    const done = new Set(rows.map((r) => r.version));
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${table} (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${migration.version} (${migration.name}) failed: ${(err as Error).message}`);
      }
      applied.push(migration.version);
    }
  });
  return applied;
}
