// Runs order-stream roles as child processes (the way they run in production), for tests that
// kill them. Output goes to a log file under .stack/test-logs for post-mortems.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import type { Config } from '../../src/config/index.js';

const root = new URL('../../', import.meta.url).pathname;

/** Where a role listens: the public API (api roles only) and the management port (every role). */
export interface Ports {
  api: number | undefined;
  management: number;
}

export interface Child {
  process: ChildProcess;
  exited: Promise<number | null>;
  /** Resolves with the ports once the role logged that it started (needs LOG_LEVEL info or lower). */
  started: Promise<Ports>;
  /** Resolves with the ports once health and metrics answer, before the role may be ready. */
  listening: Promise<Ports>;
}

export function envFor(config: Config, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: config.kafka.brokers,
    SCHEMA_REGISTRY_URL: config.registry.url,
    ...(config.registry.auth ? { SCHEMA_REGISTRY_USERNAME: config.registry.auth.username, SCHEMA_REGISTRY_PASSWORD: config.registry.auth.password } : {}),
    DATABASE_URL: config.database.url,
    ORDERS_TOPIC: config.kafka.ordersTopic,
    ORDERS_DLQ_TOPIC: config.kafka.dlqTopic,
    ORDERS_TOPIC_PARTITIONS: String(config.kafka.partitions),
    ORDERS_TOPIC_REPLICATION: String(config.kafka.replicationFactor),
    ORDERS_TOPIC_MIN_INSYNC_REPLICAS: config.kafka.minInsyncReplicas === undefined ? '' : String(config.kafka.minInsyncReplicas),
    PROCESSOR_GROUP_ID: config.kafka.groupId,
    HOST: '127.0.0.1',
    PORT: '0',
    MANAGEMENT_PORT: '0',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export function spawnRole(role: 'api' | 'processor' | 'all', env: Record<string, string>, logName: string): Child {
  mkdirSync(`${root}.stack/test-logs`, { recursive: true });
  const log = createWriteStream(`${root}.stack/test-logs/${logName}.log`, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', role], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.pipe(log);
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    buffered += chunk.toString();
    if (buffered.length > 1_000_000) buffered = buffered.slice(-10_000);
  });
  const logged = (message: string, what: string) => {
    const found = new Promise<Ports>((resolve, reject) => {
      const look = () => {
        const complete = buffered.split('\n').slice(0, -1); // the last piece may be half a line
        const line = complete.find((l) => l.includes(`"msg":"${message}`) && l.includes('"managementPort":'));
        if (!line) return;
        const { port, managementPort } = JSON.parse(line) as { port?: number; managementPort: number };
        resolve({ api: port, management: managementPort });
      };
      child.stdout!.on('data', look);
      child.once('exit', (code) => reject(new Error(`${role} exited with ${code} before it ${what}; see .stack/test-logs/${logName}.log`)));
    });
    found.catch(() => undefined);
    return found;
  };
  const started = logged('order-stream started', 'started');
  const listening = logged('listening', 'listened');
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { process: child, exited, started, listening };
}
