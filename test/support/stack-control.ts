// Stops and starts parts of the local stack from tests (chaos, registry outages): the same scripts as
// `npm run stack:up`, with the same STACK_DIR and ports. On a three-node Kafka
// (scripts/test-cluster.sh) single nodes can be stopped, killed and started.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { eventually } from './eventually.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const stackDir = () => process.env.STACK_DIR ?? `${root}.stack`;

/**
 * The ports the stack runs on. Tests see the URLs of .stack/env; when the port variables of
 * `npm run stack:up` are not in the environment (a test run by hand), a restart must still use the
 * stack's ports, not the scripts' defaults — another stack may own those.
 */
function stackPorts(env: NodeJS.ProcessEnv): Record<string, string> {
  const ports: Record<string, string> = {};
  if (!env.REGISTRY_PORT && env.SCHEMA_REGISTRY_URL) ports.REGISTRY_PORT = new URL(env.SCHEMA_REGISTRY_URL).port;
  if (!env.PG_PORT && env.DATABASE_URL) ports.PG_PORT = new URL(env.DATABASE_URL).port;
  const kafkaPort = env.KAFKA_BROKERS?.split(',')[0]?.split(':')[1];
  if (!env.KAFKA_PORT && kafkaPort) ports.KAFKA_PORT = kafkaPort;
  // stack:up's convention: the controller listens one port above the broker.
  if (!env.KAFKA_CONTROLLER_PORT && kafkaPort) ports.KAFKA_CONTROLLER_PORT = String(Number(env.KAFKA_PORT ?? kafkaPort) + 1);
  return ports;
}

async function script(component: 'kafka' | 'postgres' | 'registry', action: 'start' | 'stop', extra: Record<string, string> = {}): Promise<void> {
  const env = { ...process.env, ...stackPorts(process.env), STACK_DIR: stackDir(), ...extra };
  await run('bash', [`${root}scripts/stack/${component}/${action}.sh`], { env, timeout: 180_000 });
}

export const stopKafka = () => script('kafka', 'stop');
export const startKafka = () => script('kafka', 'start');
export const stopPostgres = () => script('postgres', 'stop');
export const startPostgres = () => script('postgres', 'start');
export const stopRegistry = () => script('registry', 'stop');
export const startRegistry = () => script('registry', 'start');

/** Node n of a three-node Kafka: controlled shutdown (SIGTERM), waiting for it to finish. */
export const stopKafkaNode = (node: number) => script('kafka', 'stop', { KAFKA_NODE: String(node) });
/** Starts node n again and waits until it reports started (caught up, unfenced). */
export const startKafkaNode = (node: number) => script('kafka', 'start', { KAFKA_NODE: String(node) });

export function kafkaNodePid(node: number): number {
  return Number(readFileSync(`${stackDir()}/kafka/node-${node}/pid`, 'utf8').trim());
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGKILL of node n: no controlled shutdown, no flush; returns once the process is gone. */
export async function killKafkaNode(node: number): Promise<void> {
  const pid = kafkaNodePid(node);
  process.kill(pid, 'SIGKILL');
  await eventually(`kafka node ${node} (pid ${pid}) gone`, () => alive(pid), (a) => !a, 10_000);
}
