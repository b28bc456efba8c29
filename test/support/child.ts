// Runs order-stream roles as child processes (the way they run in production), for tests that
// kill them. Output goes to a log file under .stack/test-logs for post-mortems.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import type { Config } from '../../src/config/index.js';

const root = new URL('../../', import.meta.url).pathname;

export interface Child {
  process: ChildProcess;
  exited: Promise<number | null>;
  /** Resolves with the port once the role logged that it started. */
  /** Resolves with the port once the role logged that it started (needs LOG_LEVEL info or lower). */
  started: Promise<number>;
}

export function envFor(config: Config, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: config.kafka.brokers,
    SCHEMA_REGISTRY_URL: config.registry.url,
    DATABASE_URL: config.database.url,
    ORDERS_TOPIC: config.kafka.ordersTopic,
    ORDERS_DLQ_TOPIC: config.kafka.dlqTopic,
    ORDERS_TOPIC_PARTITIONS: String(config.kafka.partitions),
    PROCESSOR_GROUP_ID: config.kafka.groupId,
    HOST: '127.0.0.1',
    PORT: '0',
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
  const started = new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      buffered += chunk.toString();
      const match = buffered.match(/"port":(\d+),"roles".*"msg":"order-stream started"/);
      if (match) resolve(Number(match[1]));
      if (buffered.length > 1_000_000) buffered = buffered.slice(-10_000);
    });
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code} before it started; see .stack/test-logs/${logName}.log`)));
  });
  started.catch(() => undefined);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { process: child, exited, started };
}
