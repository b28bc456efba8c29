// Part of the composition root: the clients a role uses, made at once but connected later by the
// start-up steps below (src/service/startup.ts retries each while its dependency is down), and the
// readiness checks that report on them.
import type { Config } from '../config/index.js';
import type { Logger } from '../logger.js';
import { createPool, type Pool } from '../db/pool.js';
import { migrate } from '../db/migrate.js';
import { withAdvisoryLock } from '../db/lock.js';
import { loadDemoCatalog } from '../db/demo-catalog.js';
import { connectProducer, createAdmin, disconnect, newProducer, type Producer } from '../kafka/clients.js';
import { DeliveryTracker } from '../kafka/delivery.js';
import { ensureTopics, topicSpecs } from '../kafka/topics.js';
import { createRegistry, registryRest, type RegistryRest } from '../serde/registry.js';
import { OrderSerde, valueSubject } from '../serde/order-serde.js';
import { registryReachable, resolveContract, type Contract } from '../serde/contract.js';
import { VerdictWaiter } from '../api/verdict-waiter.js';
import type { Processor } from '../processor/processor.js';
import { createMetrics, type Metrics } from '../metrics/registry.js';
import type { Check } from '../health/checks.js';
import { deliveryObserver } from '../wiring.js';
import type { Shutdown } from './shutdown.js';
import type { Step } from './startup.js';

export type Role = 'api' | 'processor';

export interface Dependencies {
  pool: Pool;
  /** One producer per process: orders from the api, dead letters from the processor. */
  producer: Producer;
  delivery: DeliveryTracker;
  serde: OrderSerde;
  rest: RegistryRest;
  metrics: Metrics;
  /** The api's verdict listener. */
  verdicts: VerdictWaiter | undefined;
  /** The order schema's id, once start-up found it. */
  contract: Contract | undefined;
}

/** Every client of the role, none connected yet: nothing here waits for a dependency. */
export function createDependencies(config: Config, roles: Role[], log: Logger): Dependencies {
  const metrics = createMetrics(roles);
  const producer = newProducer(
    { brokers: config.kafka.brokers, security: config.kafka.security, clientId: `order-stream-${roles.join('-')}` },
    { 'message.timeout.ms': config.api.produceTimeoutMs },
  );
  return {
    pool: createPool(config.database.url, config.database.poolMax),
    producer,
    delivery: new DeliveryTracker(producer, deliveryObserver(metrics)),
    serde: new OrderSerde(createRegistry(config.registry), valueSubject(config.kafka.ordersTopic)),
    rest: registryRest(config.registry),
    metrics,
    verdicts: roles.includes('api') ? new VerdictWaiter(config.database.url, log, config.api.maxWaiters) : undefined,
    contract: undefined,
  };
}

/** Each connection attempt gives up after this long, so /readyz reports the failure and the backoff applies. */
const ATTEMPT_TIMEOUT_MS = 10_000;

export interface StepContext {
  config: Config;
  log: Logger;
  deps: Dependencies;
  processor: Processor | undefined;
  shutdown: Shutdown;
  demoCatalog: boolean;
}

/** What a role brings up, in order; each step registers how to stop what it started. */
export function startupSteps({ config, log, deps, processor, shutdown, demoCatalog }: StepContext): Step[] {
  const { pool, producer, serde, verdicts } = deps;
  const subject = valueSubject(config.kafka.ordersTopic);
  const steps: Step[] = [
    {
      name: 'database migrations',
      needs: 'postgres',
      // Under an advisory lock (src/db/migrate.ts): replicas starting together migrate once.
      run: async () => {
        const applied = await migrate(pool);
        if (applied.length) log.info({ applied }, 'database migrated');
        if (demoCatalog) log.info({ inserted: await loadDemoCatalog(pool) }, 'demo catalog loaded');
      },
    },
    {
      name: 'topic creation',
      needs: 'kafka',
      run: async () => {
        const admin = createAdmin({ brokers: config.kafka.brokers, security: config.kafka.security, clientId: 'order-stream-admin' });
        try {
          log.info({ topics: await ensureTopics(admin, topicSpecs(config.kafka), ATTEMPT_TIMEOUT_MS) }, 'topics ready');
        } finally {
          admin.disconnect();
        }
      },
    },
    {
      name: 'producer connection',
      needs: 'kafka',
      run: async () => {
        await connectProducer(producer, ATTEMPT_TIMEOUT_MS);
        shutdown.started('kafka producer', () => disconnect(producer, Math.max(1000, config.shutdownTimeoutMs / 2))); // flushes what is queued
      },
    },
    {
      // The registry may be down, slow, or not hold our schema yet (the deploy step has not run).
      name: 'schema look-up',
      needs: 'registry',
      run: async () => {
        const contract = await resolveContract({
          rest: deps.rest,
          subject,
          schema: serde.schemaText,
          autoRegister: config.registry.autoRegister,
          exclusive: (work) => withAdvisoryLock(pool, `schema:${subject}`, work),
        });
        serde.useSchemaId(contract.id);
        deps.contract = contract;
        if (contract.warning) log.warn(contract.warning);
        log.info({ subject, schemaId: contract.id, version: contract.version, registered: contract.registered }, contract.registered ? 'order schema registered' : 'order schema found');
      },
    },
  ];
  if (verdicts) {
    steps.push({
      name: 'verdict listener (LISTEN)',
      needs: 'postgres',
      run: async () => {
        await verdicts.listen();
        shutdown.started('verdict listener', () => verdicts.stop()); // waiting requests answer 202 PENDING
      },
    });
  }
  if (processor) {
    steps.push({
      name: 'consumer group join',
      needs: 'kafka',
      run: async () => {
        await processor.start();
        shutdown.started('processor', () => processor.stop()); // the batch in flight is applied and committed, then the group is left
      },
    });
  }
  return steps;
}

function metadataCheck(producer: Producer): Check {
  return () =>
    new Promise((resolve, reject) => {
      if (!producer.isConnected()) return reject(new Error('kafka: producer not connected yet'));
      producer.getMetadata({ timeout: 1500 }, (err) => (err ? reject(new Error(`kafka: ${err.message}`)) : resolve()));
    });
}

/** What /readyz and orderstream_dependency_up report; `startup` names the step waited for. */
export function readinessChecks(deps: Dependencies, startup: Check, processor: Processor | undefined): Record<string, Check> {
  const { pool, producer, rest, verdicts } = deps;
  return {
    startup,
    postgres: async () => void (await pool.query('SELECT 1')),
    kafka: metadataCheck(producer),
    schema: async () => {
      if (!deps.contract) throw new Error('schema id not looked up yet');
    },
    // Reported, not required once the schema id is known: the api encodes with it and the
    // processor reads the writer schemas it cached, so a registry outage must not pull every
    // replica out of the load balancer.
    registry: () => registryReachable(rest, deps.contract?.id),
    ...(processor ? { group: async () => { if (!processor.ready) throw new Error('not joined to the consumer group yet'); } } : {}),
    ...(verdicts ? { verdicts: async () => { if (!verdicts.listening) throw new Error('verdict listener not connected'); } } : {}),
  };
}
