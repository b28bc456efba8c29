// order-stream migrate — the deploy step (an init container, a CI job): database migrations, then
// the order schema registered under its subject (BACKWARD on a new subject). Safe to run
// concurrently and repeatedly: both are serialised by PostgreSQL advisory locks (src/db/lock.ts)
// and do nothing when already done.
//
// Unlike the roles, which wait for their dependencies for as long as it takes, this step retries
// each dependency for a bounded time and then fails with a clear message: a deploy whose database
// or registry is gone should fail visibly, not hang (the orchestrator retries it).
import type { Config } from '../config/index.js';
import { createPool } from '../db/pool.js';
import { migrate } from '../db/migrate.js';
import { withAdvisoryLock } from '../db/lock.js';
import { createRegistry, registryRest, RegistryError } from '../serde/registry.js';
import { registerContract } from '../serde/contract.js';
import { OrderSerde, valueSubject } from '../serde/order-serde.js';
import { DEPENDENCY_BACKOFF, retry, type RetryOptions } from '../retry.js';

/** How long the deploy step waits for a database or registry that is down before it fails. */
const PATIENCE_MS = 20_000;

/** 4xx answers (incompatible schema, bad credentials) will not change by waiting. */
const permanent = (err: Error) => err instanceof RegistryError && err.status >= 400 && err.status < 500;

const bounded = (what: string): RetryOptions => ({
  what,
  backoff: DEPENDENCY_BACKOFF,
  giveUpAfterMs: PATIENCE_MS,
  isPermanent: permanent,
  onRetry: ({ err, attempt, delayMs }) => console.error(`migrate: ${what}: ${err.message} (attempt ${attempt}; retrying in ${delayMs} ms)`),
});

export async function runMigrate(config: Config): Promise<number> {
  const pool = createPool(config.database.url, 2);
  try {
    const applied = await retry(() => migrate(pool), bounded('database migrations'));
    console.log(applied.length ? `migrate: applied ${applied.join(', ')}` : 'migrate: schema is up to date');

    const subject = valueSubject(config.kafka.ordersTopic);
    // The contract the roles of this build read and write: the serde's own schema.
    const schema = new OrderSerde(createRegistry(config.registry), subject).schemaText;
    const rest = registryRest(config.registry);
    const contract = await retry(
      () => registerContract({ rest, subject, schema, exclusive: (work) => withAdvisoryLock(pool, `schema:${subject}`, work) }),
      bounded(`registering the order schema under ${subject}`),
    );
    if (contract.warning) console.error(`migrate: ${contract.warning}`);
    console.log(`migrate: ${contract.registered ? 'registered' : 'found'} ${subject} version ${contract.version} (schema id ${contract.id})`);
    return 0;
  } finally {
    await pool.end();
  }
}
