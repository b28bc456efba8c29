import type { Config } from '../config/index.js';
import { createPool } from '../db/pool.js';
import { migrate } from '../db/migrate.js';

export async function runMigrate(config: Config): Promise<number> {
  const pool = createPool(config.database.url, 1);
  try {
    const applied = await migrate(pool);
    console.log(applied.length ? `migrate: applied ${applied.join(', ')}` : 'migrate: schema is up to date');
    return 0;
  } finally {
    await pool.end();
  }
}
