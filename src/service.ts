// The composition root of the long-running roles (api, processor, or both in one process).
//
// Start-up, in this order:
//   1. the clients are made, none connected (src/service/dependencies.ts);
//   2. HTTP listens at once: /healthz, /readyz, /metrics answer on MANAGEMENT_PORT; the API (api
//      role, on PORT, behind bearer-token authentication unless AUTH_MODE=off) answers 503 until step 4;
//   3. in the background, each start-up step is retried until its dependency answers
//      (src/service/startup.ts): database migrations, topic creation, producer connection,
//      schema look-up, then the verdict listener (api) and the consumer group join (processor);
//   4. the API opens. /readyz names the step waited for meanwhile; nothing exits on an outage.
// Shutdown (SIGTERM/SIGINT, within SHUTDOWN_TIMEOUT_MS) stops what started in reverse order
// (src/service/shutdown.ts): the API closes (requests in flight are answered), the processor
// finishes its batch and leaves the group, the verdict listener and the producer (flushed) stop,
// HTTP stops listening, the pool ends. Only a configuration error (exit 78, src/main.ts) or a bug
// (exit 1) ends a role otherwise.
import { EventEmitter, once } from 'node:events';
import { ConfigError, type Config } from './config/index.js';
import { createLogger, type Logger } from './logger.js';
import type { Pool } from './db/pool.js';
import { buildApp, buildManagementApp } from './api/app.js';
import { verifierFor } from './api/auth/index.js';
import { Gate } from './api/gate.js';
import { Publisher } from './api/publish.js';
import { Processor } from './processor/processor.js';
import { batchObserver, readAtScrape, retryObserver } from './wiring.js';
import { createDependencies, readinessChecks, startupSteps, type Dependencies, type Role } from './service/dependencies.js';
import { Startup } from './service/startup.js';
import { Shutdown } from './service/shutdown.js';

export type { Role } from './service/dependencies.js';

export interface ServiceOptions {
  /** Insert the demo products when missing (npm run dev). */
  demoCatalog?: boolean;
}

export interface RunningService {
  log: Logger;
  pool: Pool;
  /** The public API port (api role); undefined for the processor alone, which serves no API. */
  port: number | undefined;
  /** /healthz, /readyz, /metrics. */
  managementPort: number;
  /** Resolves true once every start-up step ran and the API is open, false if stopped first. */
  started: Promise<boolean>;
  /** Resolves with the error if the role failed on a bug (not an outage): the caller exits. */
  failed: Promise<Error>;
  stop: () => Promise<void>;
}

function newProcessor(config: Config, log: Logger, deps: Dependencies, onFatal: (err: Error) => void): Processor {
  return new Processor({
    config, log, pool: deps.pool, serde: deps.serde, dlq: deps.delivery,
    onBatch: batchObserver(deps.metrics),
    onRetry: retryObserver(deps.metrics),
    onFatal,
  });
}

export async function startService(config: Config, roles: Role[], options: ServiceOptions = {}): Promise<RunningService> {
  const log = createLogger(config.logLevel, { role: roles.join('+') });
  // First: a bad key source is a configuration error (exit 78) before anything is made.
  const verifier = roles.includes('api') ? verifierFor(config.auth, log) : undefined;
  if (roles.includes('api') && config.http.port !== 0 && config.http.port === config.management.port) {
    throw new ConfigError([`MANAGEMENT_PORT must differ from PORT (both ${config.http.port}): health and metrics stay off the public port`]);
  }
  const failures = new EventEmitter<{ fatal: [Error] }>();
  const fail = (err: Error) => void failures.emit('fatal', err);
  const shutdown = new Shutdown(log);
  const startup = new Startup(log);
  let draining = false;

  // 1. Clients, none connected.
  const deps = createDependencies(config, roles, log);
  shutdown.started('database pool', () => deps.pool.end());
  const processor = roles.includes('processor') ? newProcessor(config, log, deps, fail) : undefined;
  const checks = readinessChecks(deps, startup.check, processor);
  readAtScrape(deps.metrics, { pool: deps.pool, checks, processor, consumes: { topic: config.kafka.ordersTopic, group: config.kafka.groupId }, verdicts: deps.verdicts });

  // 2. HTTP, at once: the management port for every role, the API's port for the api role.
  const gate = new Gate(() => startup.waitingFor);
  const instance = { log, metrics: deps.metrics, bodyLimitBytes: config.http.bodyLimitBytes, isDraining: () => draining };
  const listen = async (server: Awaited<ReturnType<typeof buildManagementApp>>, port: number) => {
    await server.listen({ host: config.http.host, port });
    const address = server.server.address();
    return typeof address === 'object' && address ? address.port : port;
  };
  const management = await buildManagementApp({ ...instance, health: { checks, isDraining: () => draining, advisory: ['registry'] } });
  const managementPort = await listen(management, config.management.port);
  // Probes and scrapes answer until the end of shutdown.
  shutdown.started('management server', () => management.close());
  const app = deps.verdicts
    ? await buildApp({
        ...instance,
        api: {
          gate,
          pool: deps.pool,
          metrics: deps.metrics,
          publisher: new Publisher({ serde: deps.serde, delivery: deps.delivery, waiter: deps.verdicts, topic: config.kafka.ordersTopic, produceTimeoutMs: config.api.produceTimeoutMs }),
          maxWaitSeconds: config.api.maxWaitSeconds,
          verifier,
          rateLimit: config.api.rateLimit,
        },
      })
    : undefined;
  const port = app ? await listen(app, config.http.port) : undefined;
  if (app) shutdown.started('http server', () => app.close());
  log.info({ port, managementPort, roles }, 'listening (not ready until start-up is done)');

  // 3. and 4. The dependencies, in the background; then the API opens.
  const started = startup.run(startupSteps({ config, log, deps, processor, shutdown, demoCatalog: options.demoCatalog ?? false })).then(
    (done) => {
      if (!done) return false;
      gate.open();
      shutdown.started('api', () => gate.close());
      log.info({ port, managementPort, roles }, 'order-stream started');
      return true;
    },
    (err: Error) => {
      log.fatal({ err }, 'start-up failed on a bug, not an outage');
      fail(err);
      return false;
    },
  );

  async function stop(): Promise<void> {
    draining = true; // /readyz answers 503 from now on: the load balancer stops sending
    startup.stop();
    await started; // a step in flight finishes, so what it started is stopped below
    await shutdown.run();
    log.info('stopped');
  }
  const failed = once(failures, 'fatal').then(([err]) => err as Error);
  return { log, pool: deps.pool, port, managementPort, started, failed, stop };
}

/** Runs until SIGTERM/SIGINT (exit 0) or a bug (exit 1), then shuts down within the configured timeout. */
export async function runService(config: Config, roles: Role[], options: ServiceOptions = {}): Promise<number> {
  const service = await startService(config, roles, options);
  const signals = ['SIGTERM', 'SIGINT'].map((signal) => once(process, signal).then(() => signal));
  const why = await Promise.race([...signals, service.failed]);
  service.log.info({ reason: typeof why === 'string' ? why : why.message, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
  const deadline = setTimeout(() => {
    service.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out, exiting');
    process.exit(1);
  }, config.shutdownTimeoutMs);
  deadline.unref();
  await service.stop();
  return typeof why === 'string' ? 0 : 1;
}
