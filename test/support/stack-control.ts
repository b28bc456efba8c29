// Stops and starts parts of the local stack from tests (chaos, registry outages): the same scripts as
// `npm run stack:up`, with the same STACK_DIR and ports.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;

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

async function script(component: 'kafka' | 'postgres' | 'registry', action: 'start' | 'stop'): Promise<void> {
  const env = { ...process.env, ...stackPorts(process.env), STACK_DIR: process.env.STACK_DIR ?? `${root}.stack` };
  await run('bash', [`${root}scripts/stack/${component}/${action}.sh`], { env, timeout: 180_000 });
}

export const stopKafka = () => script('kafka', 'stop');
export const startKafka = () => script('kafka', 'start');
export const stopPostgres = () => script('postgres', 'stop');
export const startPostgres = () => script('postgres', 'start');
export const stopRegistry = () => script('registry', 'stop');
export const startRegistry = () => script('registry', 'start');
