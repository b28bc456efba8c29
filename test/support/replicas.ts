// Replicas of the roles as child processes, for rollout and registry-outage tests: start several
// at once, read their readiness, stop them all.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Config } from '../../src/config/index.js';
import { envFor, spawnRole, type Child, type Ports } from './child.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;

export interface Replica extends Child {
  role: 'api' | 'processor';
  name: string;
}

export interface Readiness {
  /** HTTP status of /readyz, 0 when nothing answered. */
  status: number;
  checks: Record<string, string>;
}

/** Readiness of a replica, on its management port. */
export async function readiness(ports: Ports): Promise<Readiness> {
  try {
    const response = await fetch(`http://127.0.0.1:${ports.management}/readyz`, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as { checks?: Record<string, string> };
    return { status: response.status, checks: body.checks ?? {} };
  } catch (err) {
    return { status: 0, checks: { request: (err as Error).message } };
  }
}

export function startReplicas(config: Config, roles: Array<'api' | 'processor'>, tag: string, extra: Record<string, string> = {}): Replica[] {
  return roles.map((role, i) => Object.assign(spawnRole(role, envFor(config, extra), `${tag}-${role}-${i}`), { role, name: `${role}-${i}` }));
}

/** SIGTERM to all, each must exit 0 (a clean shutdown, whatever state its start-up was in). */
export async function stopReplicas(replicas: Replica[]): Promise<Array<number | null>> {
  for (const replica of replicas) if (replica.process.exitCode === null) replica.process.kill('SIGTERM');
  return Promise.all(replicas.map((r) => r.exited));
}

export function killReplicas(replicas: Replica[]): void {
  for (const replica of replicas) if (replica.process.exitCode === null && replica.process.signalCode === null) replica.process.kill('SIGKILL');
}

/** `order-stream migrate` as a deploy step would run it; resolves with its exit code and output. */
export async function runMigrate(config: Config, extra: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'migrate'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...envFor(config, extra) },
      timeout: 120_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}
