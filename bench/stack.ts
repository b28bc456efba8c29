// Every benchmark runs against the stack of `npm run stack:up`: this module (imported first by
// each bench script) loads its `.stack/env` — values already in the environment win, as with the
// 12-factor config — and checks that Kafka, the registry and PostgreSQL answer, so a stack that is
// down gives one clear line instead of a ConfigError or connection stack trace.
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

const REQUIRED = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_URL'] as const;

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

/** Loads `$STACK_DIR/env` (default `.stack/env`) into process.env without overriding what is set. */
export function loadStackEnv(): string {
  const file = join(process.env.STACK_DIR ?? join(process.cwd(), '.stack'), 'env');
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
      if (match && process.env[match[1]!] === undefined) process.env[match[1]!] = match[2]!;
    }
  }
  const missing = REQUIRED.filter((name) => !process.env[name]);
  if (missing.length) fail(`${missing.join(', ')} not set and no stack settings in ${file}: start the stack with \`npm run stack:up\` first`);
  return file;
}

function reachable(hostPort: string, timeoutMs = 10_000): Promise<boolean> {
  const at = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(hostPort.slice(at + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Fails with one line naming what is down (and how to start it) unless all three servers answer. */
export async function requireStack(): Promise<void> {
  const file = loadStackEnv();
  const registry = new URL(process.env.SCHEMA_REGISTRY_URL!);
  const database = new URL(process.env.DATABASE_URL!);
  const targets: Array<[string, string]> = [
    ['Kafka', process.env.KAFKA_BROKERS!.split(',')[0]!.trim()],
    ['Schema Registry', `${registry.hostname}:${registry.port || (registry.protocol === 'https:' ? 443 : 80)}`],
    ['PostgreSQL', `${database.hostname}:${database.port || 5432}`],
  ];
  const down: string[] = [];
  // Twice, generously: on a loaded machine a live server can be slow to accept.
  for (const [name, at] of targets) if (!(await reachable(at)) && !(await reachable(at))) down.push(`${name} (${at})`);
  if (down.length) fail(`the stack is down — no answer from ${down.join(', ')} (settings from ${file}); start it with \`npm run stack:up\``);
}

await requireStack();
