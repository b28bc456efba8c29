// podman as the image tests drive it: the project's containers.conf (runc, cgroupfs, no ulimits:
// what this kind of machine needs), the image `npm run image` built, and small wrappers.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const IMAGE = process.env.IMAGE ?? 'localhost/order-stream:dev';
/** Ports the containers listen on (host network): PORT_BASE .. PORT_BASE + 19. */
export const PORT_BASE = Number(process.env.CONTAINER_PORT_BASE ?? 18190);

const env = { ...process.env, CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? `${ROOT}scripts/image/containers.conf` };

export async function podman(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('podman', args, { env, maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`podman ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

export interface Inspected {
  Id: string;
  Name: string;
  ImageName: string;
  State: { Status: string; Running: boolean; ExitCode: number; Pid: number; Health?: { Status: string } };
  Config: { User: string; Healthcheck?: { Test: string[] } };
  HostConfig: { ReadonlyRootfs: boolean; CapAdd: string[] | null; CapDrop: string[] | null; NetworkMode: string };
  EffectiveCaps: string[] | null;
}

export async function inspect(container: string): Promise<Inspected> {
  const [info] = JSON.parse(await podman('container', 'inspect', container)) as Inspected[];
  if (!info) throw new Error(`no container ${container}`);
  return info;
}

/** Status lines of /proc/<pid>/status of a running container's main process, as the kernel enforces them. */
export async function processStatus(container: string): Promise<Record<string, string>> {
  const { State } = await inspect(container);
  if (!State.Running) throw new Error(`${container} is not running (${State.Status}, exit ${State.ExitCode})`);
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(`/proc/${State.Pid}/status`, 'utf8');
  return Object.fromEntries(text.split('\n').filter(Boolean).map((line) => {
    const [key = '', ...rest] = line.split(':');
    return [key, rest.join(':').trim()];
  }));
}

/** Removes containers if present (a failed earlier run), ignoring "no such container". */
export async function removeContainers(...names: string[]): Promise<void> {
  await Promise.all(names.map((name) => podman('rm', '--force', '--time', '0', name).catch(() => '')));
}

/** GET on loopback: the status code, or 0 when nothing answers. */
export async function httpStatus(port: number, path: string): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export async function request(port: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Committed offsets of a consumer group, summed over the topic's partitions (-1001 = none → 0). */
export async function committedTotal(brokers: string, groupId: string, topic: string, partitions: number): Promise<number> {
  const { createConsumer, disconnect } = await import('../../src/kafka/clients.js');
  const consumer = await createConsumer({ brokers, groupId });
  try {
    const offsets = await new Promise<Array<{ offset?: number }>>((resolve, reject) =>
      consumer.committed(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })), 10_000, (err, list) => (err ? reject(err) : resolve(list))),
    );
    return offsets.reduce((sum, p) => sum + Math.max(0, p.offset ?? 0), 0);
  } finally {
    await disconnect(consumer);
  }
}
