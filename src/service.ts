// The composition root of the long-running roles: connects the dependencies once, starts the
// roles asked for, and shuts them down in reverse order on SIGTERM/SIGINT within the timeout.
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Config } from './config/index.js';
import { createLogger } from './logger.js';
import { createPool } from './db/pool.js';
import { migrate } from './db/migrate.js';
import { createAdmin } from './kafka/clients.js';
import { ensureTopics } from './kafka/topics.js';
import { createRegistry } from './serde/registry.js';
import { OrderSerde, valueSubject } from './serde/order-serde.js';
import { healthRoutes } from './api/health.js';

export type Role = 'api' | 'processor';

export async function runService(config: Config, roles: Role[]): Promise<number> {
  const log = createLogger(config.logLevel, { role: roles.join('+') });
  const pool = createPool(config.database.url, config.database.poolMax);
  const applied = await migrate(pool);
  if (applied.length) log.info({ applied }, 'database migrated');

  const admin = createAdmin({ brokers: config.kafka.brokers, clientId: 'order-stream-admin' });
  const { partitions, replicationFactor } = config.kafka;
  const topics = await ensureTopics(admin, [
    { topic: config.kafka.ordersTopic, partitions, replicationFactor },
    { topic: config.kafka.dlqTopic, partitions, replicationFactor },
  ]);
  log.info({ topics }, 'topics ready');

  const registry = createRegistry(config.registry.url);
  const serde = new OrderSerde(registry, valueSubject(config.kafka.ordersTopic));
  const schemaId = await serde.register();
  log.info({ schemaId, subject: valueSubject(config.kafka.ordersTopic) }, 'order schema registered');

  let draining = false;
  const app = Fastify({ loggerInstance: log as FastifyBaseLogger, disableRequestLogging: true });
  healthRoutes(app, {
    isDraining: () => draining,
    checks: {
      postgres: async () => void (await pool.query('SELECT 1')),
      registry: async () => void (await registry.getLatestSchemaId(valueSubject(config.kafka.ordersTopic))),
    },
  });
  await app.listen({ host: config.http.host, port: config.http.port });

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  draining = true;
  const deadline = setTimeout(() => {
    log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out, exiting');
    process.exit(1);
  }, config.shutdownTimeoutMs);
  deadline.unref();
  await app.close();
  admin.disconnect();
  await pool.end();
  log.info('stopped');
  return 0;
}
