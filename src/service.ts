// The composition root of the long-running roles: connects the dependencies once, starts the
// roles asked for, and on SIGTERM/SIGINT stops them in reverse order within SHUTDOWN_TIMEOUT_MS.
import type { Config } from './config/index.js';
import { createLogger, type Logger } from './logger.js';
import { createPool, type Pool } from './db/pool.js';
import { migrate } from './db/migrate.js';
import { loadDemoCatalog } from './db/demo-catalog.js';
import { createAdmin, createProducer, disconnect, type Producer } from './kafka/clients.js';
import { DeliveryTracker } from './kafka/delivery.js';
import { ensureTopics, topicSpecs } from './kafka/topics.js';
import { createRegistry, registryRest } from './serde/registry.js';
import { OrderSerde, valueSubject } from './serde/order-serde.js';
import { registryReachable, resolveContract, type Contract } from './serde/contract.js';
import { withAdvisoryLock } from './db/lock.js';
import { buildApp } from './api/app.js';
import { VerdictWaiter } from './api/verdict-waiter.js';
import { Publisher } from './api/publish.js';
import { Processor } from './processor/processor.js';
import { createMetrics } from './metrics/registry.js';
import { batchObserver, deliveryObserver, readAtScrape, retryObserver } from './wiring.js';
import type { Check } from './health/checks.js';

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
  const { ordersTopic } = config.kafka;
  try {
    log.info({ topics: await ensureTopics(admin, topicSpecs(config.kafka)) }, 'topics ready');
  } finally {
    admin.disconnect();
  }

  const rest = registryRest(config.registry);
  const serde = new OrderSerde(createRegistry(config.registry), valueSubject(ordersTopic));

  // One producer per process: orders from the api, dead letters from the processor.
  const producer = await createProducer(
    { brokers: config.kafka.brokers, security: config.kafka.security, clientId: `order-stream-${roles.join('-')}` },
    { 'message.timeout.ms': config.api.produceTimeoutMs },
  );
  const metrics = createMetrics(roles);
  const delivery = new DeliveryTracker(producer, deliveryObserver(metrics));

  const verdicts = roles.includes('api') ? new VerdictWaiter(config.database.url, log) : undefined;
  await verdicts?.start();

  const processor = roles.includes('processor')
    ? new Processor({
        config, log, pool, serde, dlq: delivery,
        onBatch: batchObserver(metrics),
        onRetry: retryObserver(metrics),
        // A bug, not a bad message: exit non-zero so the orchestrator restarts a clean process.
        onFatal: () => void stop().finally(() => process.exit(1)),
      })
    : undefined;

  let draining = false;
  // The schema id is looked up in the background (below) while health and metrics already answer.
  let contract: Contract | undefined;
  let contractProblem = 'schema id not looked up yet';
  const checks: Record<string, Check> = {
    postgres: async () => void (await pool.query('SELECT 1')),
    kafka: metadataCheck(producer),
    schema: async () => {
      if (!contract) throw new Error(contractProblem);
    },
    // Reported, not required once the schema id is known: the api encodes with it and the
    // processor reads the writer schemas it cached, so a registry outage must not pull every
    // replica out of the load balancer.
    registry: () => registryReachable(rest, contract?.id),
    ...(processor ? { group: async () => { if (!processor.ready) throw new Error('not joined to the consumer group yet'); } } : {}),
    ...(verdicts ? { verdicts: async () => { if (!verdicts.listening) throw new Error('verdict listener not connected'); } } : {}),
  };
  readAtScrape(metrics, { pool, checks, processor, consumes: { topic: ordersTopic, group: config.kafka.groupId }, verdicts });
  const app = await buildApp({
    log,
    bodyLimitBytes: config.http.bodyLimitBytes,
    metrics,
    health: { isDraining: () => draining, checks, advisory: ['registry'] },
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

  await app.listen({ host: config.http.host, port: config.http.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  log.info({ port, roles }, 'listening (not ready until the schema id is known)');

  // The registry may be down, slow, or not hold our schema yet (the deploy step has not run): keep
  // retrying with backoff, not ready meanwhile, never exit. Then start the roles.
  let stopped: () => void = () => undefined;
  const stopping = new Promise<void>((resolve) => (stopped = resolve));
  // Settled after the first look-up: with the roles started if it found the schema id, else at once.
  let firstAttemptDone: () => void = () => undefined;
  const firstAttempt = new Promise<void>((resolve) => (firstAttemptDone = resolve));
  const starting = (async () => {
    const subject = valueSubject(ordersTopic);
    for (let attempt = 1; !draining; attempt++) {
      try {
        contract = await resolveContract({
          rest,
          subject,
          schema: serde.schemaText,
          autoRegister: config.registry.autoRegister,
          exclusive: (work) => withAdvisoryLock(pool, `schema:${subject}`, work),
        });
        break;
      } catch (err) {
        const delayMs = Math.round(Math.min(15_000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
        contractProblem = `${(err as Error).message} (attempt ${attempt}; retrying in ${delayMs} ms)`;
        log.warn({ err: (err as Error).message, attempt, delayMs, subject }, 'schema id not found yet, retrying');
        firstAttemptDone();
        await Promise.race([stopping, new Promise((resolve) => setTimeout(resolve, delayMs))]);
      }
    }
    if (!contract || draining) return;
    serde.useSchemaId(contract.id);
    if (contract.warning) log.warn(contract.warning);
    log.info({ subject, schemaId: contract.id, version: contract.version, registered: contract.registered }, contract.registered ? 'order schema registered' : 'order schema found');
    await processor?.start();
    log.info({ port, roles }, 'order-stream started');
  })().catch((err: Error) => {
    // Not the registry (retried above): the consumer could not be created. Exit for a clean restart.
    log.fatal({ err }, 'start-up failed; exiting');
    setImmediate(() => process.exit(1));
  }).finally(firstAttemptDone);
  // Callers (tests, the CLI) get a service that is started when the registry is there; otherwise
  // one that answers health and keeps looking in the background.
  await firstAttempt;

  async function stop(): Promise<void> {
    draining = true;
    stopped();
    await starting; // a role half-started finishes starting, then stops below
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
