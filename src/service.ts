// The composition root of the long-running roles: connects the dependencies once, starts the
// roles asked for, and on SIGTERM/SIGINT stops them in reverse order within SHUTDOWN_TIMEOUT_MS.
import type { Config } from './config/index.js';
import { createLogger, type Logger } from './logger.js';
import { createPool, type Pool } from './db/pool.js';
import { migrate } from './db/migrate.js';
import { loadDemoCatalog } from './db/demo-catalog.js';
import { createAdmin, createProducer, disconnect, type Producer } from './kafka/clients.js';
import { DeliveryTracker } from './kafka/delivery.js';
import { ensureTopics } from './kafka/topics.js';
import { createRegistry } from './serde/registry.js';
import { OrderSerde, valueSubject } from './serde/order-serde.js';
import { buildApp } from './api/app.js';
import { VerdictWaiter } from './api/verdict-waiter.js';
import { Publisher } from './api/publish.js';
import { Processor } from './processor/processor.js';
import { createMetrics } from './metrics/registry.js';
import { batchObserver, deliveryObserver, readAtScrape } from './metrics/observers.js';
import type { Check } from './api/health.js';

export type Role = 'api' | 'processor';

export interface RunningService {
  log: Logger;
  pool: Pool;
  port: number;
  stop: () => Promise<void>;
}

function metadataCheck(producer: Producer): Check {
  return () =>
    new Promise((resolve, reject) =>
      producer.getMetadata({ timeout: 1500 }, (err) => (err ? reject(new Error(`kafka: ${err.message}`)) : resolve())),
    );
}

export interface ServiceOptions {
  /** Insert the demo products when missing (npm run dev). */
  demoCatalog?: boolean;
}

export async function startService(config: Config, roles: Role[], options: ServiceOptions = {}): Promise<RunningService> {
  const log = createLogger(config.logLevel, { role: roles.join('+') });
  const pool = createPool(config.database.url, config.database.poolMax);
  const applied = await migrate(pool);
  if (applied.length) log.info({ applied }, 'database migrated');
  if (options.demoCatalog) log.info({ inserted: await loadDemoCatalog(pool) }, 'demo catalog loaded');

  const admin = createAdmin({ brokers: config.kafka.brokers, security: config.kafka.security, clientId: 'order-stream-admin' });
  const { partitions, replicationFactor, ordersTopic, dlqTopic } = config.kafka;
  try {
    log.info({ topics: await ensureTopics(admin, [
      { topic: ordersTopic, partitions, replicationFactor },
      { topic: dlqTopic, partitions, replicationFactor },
    ]) }, 'topics ready');
  } finally {
    admin.disconnect();
  }

  const registry = createRegistry(config.registry.url);
  const serde = new OrderSerde(registry, valueSubject(ordersTopic));
  log.info({ schemaId: await serde.register(), subject: valueSubject(ordersTopic) }, 'order schema registered');

  // One producer per process: orders from the api, dead letters from the processor.
  const producer = await createProducer(
    { brokers: config.kafka.brokers, security: config.kafka.security, clientId: `order-stream-${roles.join('-')}` },
    { 'message.timeout.ms': config.api.produceTimeoutMs },
  );
  const metrics = createMetrics(roles.join('+'));
  const delivery = new DeliveryTracker(producer, deliveryObserver(metrics));

  const verdicts = roles.includes('api') ? new VerdictWaiter(config.database.url, log) : undefined;
  await verdicts?.start();

  const processor = roles.includes('processor')
    ? new Processor({
        config, log, pool, serde, dlq: delivery,
        onBatch: batchObserver(metrics),
        onRetry: (operation) => metrics.retries.inc({ operation }),
        // A bug, not a bad message: exit non-zero so the orchestrator restarts a clean process.
        onFatal: () => void stop().finally(() => process.exit(1)),
      })
    : undefined;

  let draining = false;
  const checks: Record<string, Check> = {
    postgres: async () => void (await pool.query('SELECT 1')),
    kafka: metadataCheck(producer),
    registry: async () => void (await registry.getLatestSchemaId(valueSubject(ordersTopic))),
    ...(processor ? { group: async () => { if (!processor.ready) throw new Error('not joined to the consumer group yet'); } } : {}),
    ...(verdicts ? { verdicts: async () => { if (!verdicts.listening) throw new Error('verdict listener not connected'); } } : {}),
  };
  readAtScrape(metrics, { pool, checks, processor, verdicts });
  const app = await buildApp({
    log,
    bodyLimitBytes: config.http.bodyLimitBytes,
    metrics,
    health: { isDraining: () => draining, checks },
    extraRoutes: (scope) => {
      scope.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
        reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
      );
    },
    ...(verdicts
      ? {
          api: {
            pool, metrics,
            publisher: new Publisher({ serde, delivery, waiter: verdicts, topic: ordersTopic, produceTimeoutMs: config.api.produceTimeoutMs }),
            maxWaitSeconds: config.api.maxWaitSeconds,
          },
        }
      : {}),
  });

  await processor?.start();
  await app.listen({ host: config.http.host, port: config.http.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  log.info({ port, roles }, 'order-stream started');

  async function stop(): Promise<void> {
    draining = true;
    await app.close(); // in-flight requests finish; new ones get 503
    await processor?.stop(); // the batch in flight is applied and committed, then the group is left
    await verdicts?.stop();
    await disconnect(producer, Math.max(1000, config.shutdownTimeoutMs / 2)); // flush what is queued
    await pool.end();
    log.info('stopped');
  }
  return { log, pool, port, stop };
}

/** Runs until SIGTERM/SIGINT, then shuts down within the configured timeout. */
export async function runService(config: Config, roles: Role[], options: ServiceOptions = {}): Promise<number> {
  const service = await startService(config, roles, options);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  service.log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
  const deadline = setTimeout(() => {
    service.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out, exiting');
    process.exit(1);
  }, config.shutdownTimeoutMs);
  deadline.unref();
  await service.stop();
  return 0;
}
