// The local Kafka Connect worker (CONNECT=1 npm run stack:up) seen from tests and benches: its REST
// API, the connector configurations of deploy/connect with this stack's addresses, and the worker
// process itself (killed and restarted by the tests that need a worker crash).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { eventually } from './eventually.js';

const root = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

export type ConnectorConfig = Record<string, string>;

export function connectUrl(): string {
  const url = process.env.CONNECT_URL;
  if (!url) throw new Error('CONNECT_URL is not set: start the worker with CONNECT=1 npm run stack:up and source .stack/env (or run npm run test:connect)');
  return url.replace(/\/$/, '');
}

/** The stack directory whose connect/ holds the worker's pid file (the one scripts/stack/connect uses). */
export const stackDir = (): string => process.env.STACK_DIR ?? `${root}.stack`;

/**
 * A connector file of deploy/connect with the addresses of the running stack: the JDBC URL and
 * credentials from DATABASE_URL, Apicurio's native API next to SCHEMA_REGISTRY_URL's ccompat API.
 * The files carry the local stack's fixed addresses; tests run against whatever the env names.
 */
export function deployedConnector(file: string, overrides: ConnectorConfig = {}): { name: string; config: ConnectorConfig } {
  const { name, config } = JSON.parse(readFileSync(`${root}deploy/connect/${file}`, 'utf8')) as { name: string; config: ConnectorConfig };
  const db = new URL(required('DATABASE_URL'));
  const database = db.pathname.replace(/^\//, '');
  const stack: ConnectorConfig = {};
  if ('connection.url' in config) {
    stack['connection.url'] = `jdbc:postgresql://${db.hostname}:${db.port || 5432}/${database}`;
    stack['connection.username'] = decodeURIComponent(db.username);
    stack['connection.password'] = decodeURIComponent(db.password);
  }
  if ('database.hostname' in config) {
    Object.assign(stack, { 'database.hostname': db.hostname, 'database.port': db.port || '5432', 'database.user': decodeURIComponent(db.username), 'database.password': decodeURIComponent(db.password), 'database.dbname': database });
  }
  for (const key of Object.keys(config).filter((k) => k.endsWith('apicurio.registry.url'))) stack[key] = apicurioUrl();
  return { name, config: { ...config, ...stack, ...overrides } };
}

/** Apicurio's own REST API (which its converter speaks) on the server of SCHEMA_REGISTRY_URL. */
export const apicurioUrl = (): string => `${new URL(required('SCHEMA_REGISTRY_URL')).origin}/apis/registry/v2`;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: source .stack/env`);
  return value;
}

async function rest<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${connectUrl()}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function ok<T>(method: string, path: string, body?: unknown): Promise<T> {
  const answer = await rest<T>(method, path, body);
  if (answer.status >= 300) throw new Error(`Connect ${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

export interface ConnectorStatus {
  connector: { state: string; trace?: string };
  tasks: { id: number; state: string; trace?: string }[];
}

/** Creates or updates a connector (PUT is idempotent). */
export const putConnector = (name: string, config: ConnectorConfig) => ok<unknown>('PUT', `/connectors/${name}/config`, { ...config, name });
export const deleteConnector = async (name: string) => {
  const { status } = await rest('DELETE', `/connectors/${name}`);
  if (status !== 204 && status !== 404) throw new Error(`Connect DELETE ${name}: ${status}`);
};
export const connectorStatus = async (name: string): Promise<ConnectorStatus | undefined> => {
  const answer = await rest<ConnectorStatus>('GET', `/connectors/${name}/status`);
  return answer.status === 200 ? answer.body : undefined;
};
export const stopConnector = (name: string) => ok<unknown>('PUT', `/connectors/${name}/stop`);
export const resumeConnector = (name: string) => ok<unknown>('PUT', `/connectors/${name}/resume`);
/** Forgets a stopped connector's offsets: a sink re-reads its topics from the start, a source re-snapshots. */
export const resetOffsets = (name: string) => ok<unknown>('DELETE', `/connectors/${name}/offsets`);

const allRunning = (s: ConnectorStatus | undefined) => s?.connector.state === 'RUNNING' && s.tasks.length > 0 && s.tasks.every((t) => t.state === 'RUNNING');

/** Waits until the connector and all its tasks run; a FAILED task fails at once with its trace. */
export async function awaitRunning(name: string, timeoutMs = 120_000): Promise<ConnectorStatus> {
  return eventually(`connector ${name} RUNNING`, async () => {
    const status = await connectorStatus(name).catch(() => undefined);
    const failed = status?.tasks.find((t) => t.state === 'FAILED') ?? (status?.connector.state === 'FAILED' ? status.connector : undefined);
    if (failed) throw new Error(`connector ${name} FAILED: ${failed.trace?.split('\n').slice(0, 8).join('\n')}`);
    return status;
  }, allRunning, timeoutMs, 250) as Promise<ConnectorStatus>;
}

export async function awaitState(name: string, state: string, timeoutMs = 60_000): Promise<void> {
  await eventually(`connector ${name} ${state}`, async () => (await connectorStatus(name).catch(() => undefined))?.connector.state, (s) => s === state, timeoutMs, 250);
}

/** The worker's pid (scripts/stack/connect/start.sh writes it). */
export const workerPid = (): number => Number(readFileSync(`${stackDir()}/connect/pid`, 'utf8').trim());

/** SIGKILLs the worker: no task commits its offsets, no connector stops cleanly. */
export async function killWorker(): Promise<void> {
  const pid = workerPid();
  process.kill(pid, 'SIGKILL');
  await eventually('worker gone', () => alive(pid), (a) => !a, 30_000);
}

/** Starts the worker again (the script waits until its REST API answers). */
export async function startWorker(): Promise<void> {
  await run('bash', [`${root}scripts/stack/connect/start.sh`], { env: { ...process.env, STACK_DIR: stackDir() }, timeout: 300_000 });
}

/** Stops the worker cleanly (its tasks commit their offsets first). */
export async function stopWorker(): Promise<void> {
  await run('bash', [`${root}scripts/stack/connect/stop.sh`], { env: { ...process.env, STACK_DIR: stackDir() }, timeout: 120_000 });
}

export function workerRunning(): boolean {
  try {
    return alive(workerPid());
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
