// order-stream migrate — the deploy step: database migrations, then the order schema registered
// under its subject (BACKWARD on a new subject). Safe to run concurrently and repeatedly: both are
// serialised by PostgreSQL advisory locks and do nothing when already done.
import type { Config } from '../config/index.js';
import { createPool } from '../db/pool.js';
import { migrate } from '../db/migrate.js';
import { withAdvisoryLock } from '../db/lock.js';
import { createRegistry, registryRest, RegistryError } from '../serde/registry.js';
import { registerContract, type Contract } from '../serde/contract.js';
import { OrderSerde, valueSubject } from '../serde/order-serde.js';

/** How long a deploy step waits for a registry that is down or erroring before it fails. */
const REGISTRY_PATIENCE_MS = 60_000;

/** 4xx answers (incompatible schema, bad credentials) will not change by waiting. */
const permanent = (err: unknown) => err instanceof RegistryError && err.status >= 400 && err.status < 500;

export async function runMigrate(config: Config): Promise<number> {
  const pool = createPool(config.database.url, 2);
  try {
    const applied = await migrate(pool);
    console.log(applied.length ? `migrate: applied ${applied.join(', ')}` : 'migrate: schema is up to date');

    const subject = valueSubject(config.kafka.ordersTopic);
    // The contract the roles of this build read and write: the serde's own schema.
    const schema = new OrderSerde(createRegistry(config.registry), subject).schemaText;
    const rest = registryRest(config.registry);
    const deadline = Date.now() + REGISTRY_PATIENCE_MS;
    let contract: Contract;
    for (let attempt = 1; ; attempt++) {
      try {
        contract = await registerContract({ rest, subject, schema, exclusive: (work) => withAdvisoryLock(pool, `schema:${subject}`, work) });
        break;
      } catch (err) {
        if (permanent(err) || Date.now() > deadline) throw new Error(`registering the order schema under ${subject} failed: ${(err as Error).message}`);
        const delayMs = Math.min(5000, 250 * 2 ** attempt);
        console.error(`migrate: ${(err as Error).message}; retrying in ${delayMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
    if (contract.warning) console.error(`migrate: ${contract.warning}`);
    console.log(`migrate: ${contract.registered ? 'registered' : 'found'} ${subject} version ${contract.version} (schema id ${contract.id})`);
    return 0;
  } finally {
    await pool.end();
  }
}
