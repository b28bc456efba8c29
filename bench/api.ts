// The api role under a standard HTTP load generator (autocannon), one instance at a time, as
// deployed (`order-stream api` from dist/, a child process). Each of --runs rounds measures:
//   1. POST throughput and latency: as many orders as the api can acknowledge (durable in Kafka),
//      no processor running
//   2. with --auth both (this build only): run 1 again on a second api with AUTH_MODE=jwt (a key
//      file, an ES256 token on every request), and the cost of verifying tokens against run 1
//   3. end to end, POST with `Prefer: wait=5` at --rate, a processor of the same build running and
//      every order acknowledged so far applied first: latency until the verdict, and how many got
//      one (201) before the wait ran out (202)
//   4. peak RSS of each role under those loads
// Every figure is the median over the rounds, with the spread (min–max).
//
// Before/after in one run, as bench:drain: BENCH_BASELINE names another build's dist/main.js,
// BENCH_BASELINE_NODE the node binary that runs it (its folder must hold node_modules built for
// that node: the Kafka client is a native addon), BENCH_BASELINE_ENV ("NAME=value …") settings for
// its roles (alone, this build with those settings). Each round then measures both contenders, in
// turn and in alternate order, on the same topics, group and catalog: a contender's api, then its
// processor for run 3, both stopped before the other's turn (two processors in one group would
// split the partitions between them). Ratios head ÷ baseline are taken within a round, then the
// median of those.
//
//   [BENCH_BASELINE=../base/dist/main.js] [BENCH_BASELINE_NODE=/usr/bin/node] [BENCH_BASELINE_ENV="A=1 B=2"]
//   npm run bench:api -- [--runs 3] [--seconds 15] [--connections 100] [--rate 1000] [--auth off|both]
import { parseArgs } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { createAdmin } from '../src/kafka/clients.js';
import { ensureTopics } from '../src/kafka/topics.js';
import { createPool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { SETTINGS } from '../src/config/index.js';
import { quietCheck, benchConfig, envList, imageRuntimeEnv, processorRuntimeEnv, median, peakRss, registerOrderContract } from './support.js';
import { DEV_AUDIENCE, DEV_ISSUER, devKeys, devToken } from '../src/cli/token.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '100' },
    rate: { type: 'string', default: '1000' },
    auth: { type: 'string', default: 'off' },
  },
});
if (values.auth !== 'off' && values.auth !== 'both') throw new Error(`--auth must be off or both (got ${values.auth})`);
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer (got ${values.runs})`);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const rate = Number(values.rate);
const log = (line: string) => console.error(line);

/** A build under test: the node binary that runs it, its dist/main.js, settings for its roles. */
interface Build {
  name: 'head' | 'baseline';
  node: string;
  main: string;
  env: Record<string, string>;
  version: string;
}
const nodeVersion = (node: string) => execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
const head: Build = { name: 'head', node: process.execPath, main: 'dist/main.js', env: {}, version: nodeVersion(process.execPath) };
// Read as bench:drain reads them: BENCH_BASELINE_ENV alone means this build with other settings.
const baselineMain = process.env.BENCH_BASELINE ?? (process.env.BENCH_BASELINE_ENV ? 'dist/main.js' : undefined);
const baselineNode = process.env.BENCH_BASELINE_NODE ?? process.execPath;
const baseline: Build | undefined = baselineMain
  ? { name: 'baseline', node: baselineNode, main: baselineMain, env: envList(process.env.BENCH_BASELINE_ENV), version: nodeVersion(baselineNode) }
  : undefined;
const builds = baseline ? [head, baseline] : [head];

const tag = `bench-${Date.now().toString(36)}`;
const config = benchConfig(tag, 6);
const admin = createAdmin({ brokers: config.kafka.brokers });
await ensureTopics(admin, [
  { topic: config.kafka.ordersTopic, partitions: 6, replicationFactor: 1 },
  { topic: config.kafka.dlqTopic, partitions: 6, replicationFactor: 1 },
]);
admin.disconnect();
const pool = createPool(config.database.url, 2);
// The deploy step, as `order-stream migrate` runs it: the roles run with NODE_ENV=production,
// where they only look the order schema up (SCHEMA_AUTO_REGISTER is off).
await migrate(pool);
await registerOrderContract(config);
const products = Array.from({ length: 1000 }, (_, i) => `${tag}-P${i}`);
await pool.query(`INSERT INTO catalog (product_id, product_name, unit_price, stock) SELECT id, id, 100, 1000000000 FROM unnest($1::text[]) id`, [products]);
const storedOrders = async () => (await pool.query(`SELECT count(*)::int AS n FROM orders WHERE product_id = ANY($1)`, [products])).rows[0].n as number;

// Every child killed if we stop (or fail) half-way.
const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

// The settings every role gets; they are the same for both builds, so an older baseline reads
// them too. AUTH_MODE=off and no rate limit unless extraEnv says otherwise (run 2): these figures
// measure the api without authentication.
const roleEnv = (port: number): Record<string, string> => ({
  NODE_ENV: 'production', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), MANAGEMENT_PORT: String(port + 1),
  AUTH_MODE: 'off', RATE_LIMIT_MAX: '0',
  ORDERS_TOPIC: config.kafka.ordersTopic, ORDERS_DLQ_TOPIC: config.kafka.dlqTopic, PROCESSOR_GROUP_ID: config.kafka.groupId,
});
const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;
const ready = (port: number) => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);

// Each child gets two fresh ports: `port` serves the API, `port + 1` health and metrics.
let nextPort = 18600 + 2 * Math.floor(Math.random() * 150);
// Each role runs with the runtime settings it is deployed with (the image's ENV; the processor
// container's NODE_OPTIONS besides).
const RUNTIME_ENV = { api: imageRuntimeEnv(), processor: processorRuntimeEnv() };

/** Starts `<build.node> <build.main> <role>` and resolves once it is ready. */
function start(build: Build, role: 'api' | 'processor', extraEnv: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number }> {
  const port = (nextPort += 2);
  const child = spawn(build.node, [build.main, role], { env: { ...process.env, ...roleEnv(port), ...RUNTIME_ENV[role], ...build.env, ...extraEnv }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = async () => {
      // Builds before the management port answer /readyz on PORT.
      if ((await ready(port + 1)) || (await ready(port))) return resolve({ child, port });
      if (Date.now() > deadline || exited(child)) return reject(new Error(`${build.name} ${role} did not become ready`));
      setTimeout(poll, 200);
    };
    void poll();
  });
}

/** SIGTERM, and wait for the child to be gone (a processor commits and leaves the group). */
async function stop(child: ChildProcess): Promise<void> {
  if (!exited(child)) {
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await gone;
    clearTimeout(timer);
  }
  children.delete(child);
}

let n = 0;
const body = () => JSON.stringify({ productId: products[n++ % products.length], qty: 1, unitPrice: 100 });
/** Orders acknowledged (2xx) so far, by every run of every contender, warm-ups included. */
let acknowledged = 0;

/** POSTs a new order per request for --seconds (unless `options` says otherwise). */
async function posts(url: string, headers: Record<string, string>, options: Partial<autocannon.Options>): Promise<autocannon.Result> {
  const result = await autocannon({
    url, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, duration: seconds,
    requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }], ...options,
  });
  acknowledged += result['2xx'];
  return result;
}

/** Warm-up, then the measured throughput run. */
async function throughput(url: string, headers: Record<string, string> = {}): Promise<autocannon.Result> {
  await posts(url, headers, { connections: 20, duration: 3 });
  return posts(url, headers, { connections });
}

interface Round {
  post: autocannon.Result;
  jwt?: autocannon.Result;
  e2e: autocannon.Result;
  apiRss: number;
  processorRss: number;
}

const keys = values.auth === 'both' ? await devKeys(mkdtempSync(join(tmpdir(), 'bench-auth-'))) : undefined;

/** One contender's turn in a round: runs 1 and 2 against its api, then run 3 with its processor. */
async function turn(build: Build): Promise<Round> {
  const api = await start(build, 'api');
  const url = `http://127.0.0.1:${api.port}/order-service/bench-user/orders`;
  const post = await throughput(url);

  let jwt: autocannon.Result | undefined;
  if (keys && build === head) {
    const token = await devToken(keys, 'bench-user', [], 3600);
    const jwtApi = await start(build, 'api', { AUTH_MODE: 'jwt', AUTH_PUBLIC_KEY_FILE: keys.publicKeyFile, AUTH_ISSUER: DEV_ISSUER, AUTH_AUDIENCE: DEV_AUDIENCE });
    jwt = await throughput(`http://127.0.0.1:${jwtApi.port}/order-service/bench-user/orders`, { authorization: `Bearer ${token}` });
    await stop(jwtApi.child);
  }

  // The end-to-end run starts with every order acknowledged so far applied (this turn's backlog,
  // and any 202s of the previous turn), so it measures latency, not the queue in front of it.
  const processor = await start(build, 'processor');
  const deadline = Date.now() + 600_000;
  for (let stored = await storedOrders(); stored < acknowledged; stored = await storedOrders()) {
    if (exited(processor.child) || Date.now() > deadline) throw new Error(`${build.name}: backlog not applied, ${stored} of ${acknowledged} orders stored`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const e2e = await posts(url, { prefer: 'wait=5' }, { connections: Math.max(10, Math.ceil(rate / 20)), overallRate: rate });

  // VmHWM is the high-water mark over the process's life: read once, before it stops.
  const round = { post, jwt, e2e, apiRss: peakRss(api.child.pid!), processorRss: peakRss(processor.child.pid!) };
  await stop(processor.child);
  await stop(api.child);
  return round;
}

const postRate = (r: Round) => r.post['2xx'] / r.post.duration;
const status = (r: autocannon.Result, code: number) => r.statusCodeStats?.[`${code}`]?.count ?? 0;
const results = new Map<Build, Round[]>(builds.map((b) => [b, []]));
for (let run = 1; run <= runs; run++) {
  await quietCheck(log, `round ${run}`);
  // Alternate order, so neither contender always takes the turn right after quietCheck's idle pause.
  for (const build of run % 2 ? builds : [...builds].reverse()) {
    const r = await turn(build);
    results.get(build)!.push(r);
    log(`  round ${run} ${build.name}: ${Math.round(postRate(r))} POST/s (p99 ${r.post.latency.p99} ms)${r.jwt ? `, jwt ${Math.round(r.jwt['2xx'] / r.jwt.duration)} POST/s` : ''}; e2e p50 ${r.e2e.latency.p50} ms, ${status(r.e2e, 201)} × 201, ${status(r.e2e, 202)} × 202`);
  }
}
const applied = await storedOrders();
await pool.end();

// ---- summary: medians with spread, ratios within a round ----
const num = (digits: number) => (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: digits });
const spread = (xs: number[], f = num(0)) => (xs.length > 1 ? `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})` : f(xs[0]!));
/** One figure of a contender over its rounds. */
const of = (b: Build, pick: (r: Round) => number, f = num(0)) => spread(results.get(b)!.map(pick), f);
const ms = (b: Build, pick: (r: Round) => number) => `${of(b, pick, num(1))} ms`;

// [figure, cell of a contender, the figure compared head ÷ baseline (per round)]
type Row = [string, (b: Build) => string, ((r: Round) => number)?];
const rows: Row[] = [
  [`POST /order-service/:userId/orders, ${connections} connections: acknowledged orders/s`, (b) => `**${of(b, postRate)}**`, postRate],
  ['… latency p50 / p99', (b) => `${ms(b, (r) => r.post.latency.p50)} / ${ms(b, (r) => r.post.latency.p99)}`],
  ['… non-2xx / errors / timeouts', (b) => `${of(b, (r) => r.post.non2xx)} / ${of(b, (r) => r.post.errors)} / ${of(b, (r) => r.post.timeouts)}`],
  [`end to end at ${rate} orders/s with \`Prefer: wait=5\`: verdict latency p50 / p99`, (b) => `**${ms(b, (r) => r.e2e.latency.p50)}** / ${ms(b, (r) => r.e2e.latency.p99)}`, (r) => r.e2e.latency.p50],
  ['… requests sent / 201 (verdict) / 202 (wait ran out) / non-2xx', (b) => [(r: Round) => r.e2e.requests.sent, (r: Round) => status(r.e2e, 201), (r: Round) => status(r.e2e, 202), (r: Round) => r.e2e.non2xx].map((pick) => of(b, pick)).join(' / ')],
  ['peak RSS: api / processor', (b) => `${of(b, (r) => r.apiRss / 1048576)} MB / ${of(b, (r) => r.processorRss / 1048576)} MB`],
];
if (keys) {
  const jwtRate = (r: Round) => r.jwt!['2xx'] / r.jwt!.duration;
  // The cost of verifying tokens, within a round: how far below AUTH_MODE=off.
  const below = (b: Build) => of(b, (r) => (100 * (postRate(r) - jwtRate(r))) / postRate(r), num(1));
  rows.push(
    ['the same POSTs with `AUTH_MODE=jwt` (ES256 token verified on each): acknowledged orders/s', (b) => (b === head ? `**${of(b, jwtRate)}** (${below(b)} % below AUTH_MODE=off)` : '—')],
    ['… latency p50 / p99; non-2xx', (b) => (b === head ? `${ms(b, (r) => r.jwt!.latency.p50)} / ${ms(b, (r) => r.jwt!.latency.p99)}; ${of(b, (r) => r.jwt!.non2xx)}` : '—')],
  );
}
/** head ÷ baseline of a figure, per round (the rounds of both pair up by index), then the median. */
const ratio = (pick: (r: Round) => number) => {
  const base = results.get(baseline!)!;
  return `${spread(results.get(head)!.map((r, i) => pick(r) / pick(base[i]!)), (x) => x.toFixed(2))}×`;
};

const label = (b: Build) => `${b.name} (node ${b.version})`;
const title = `api, one instance (${seconds} s per run, ${runs} round${runs > 1 ? 's, median (min–max)' : ''})`;
const table = baseline
  ? [`| ${title} | ${label(head)} | ${label(baseline)} | head ÷ baseline |`, '|---|---|---|---|', ...rows.map(([name, cell, pick]) => `| ${name} | ${cell(head)} | ${cell(baseline)} | ${pick ? ratio(pick) : '—'} |`)]
  : [`| ${title} | value |`, '|---|---|', ...rows.map(([name, cell]) => `| ${name} | ${cell(head)} |`)];

// The command as run, with the environment that shaped it: BENCH_*, NODE_OPTIONS and the roles'
// settings, less those this script sets itself and the stack's connection settings (and secrets).
const quote = (s: string) => (/^[\w@%+=:,./-]*$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const own = new Set(Object.keys(roleEnv(0)));
const roleSettings = new Set((SETTINGS as readonly { name: string; secret?: boolean }[])
  .filter((s) => !s.secret && !own.has(s.name) && !/^(KAFKA|SCHEMA_REGISTRY)_/.test(s.name)).map((s) => s.name));
const shown = Object.entries(process.env)
  .filter(([k]) => k.startsWith('BENCH_') || k === 'NODE_OPTIONS' || roleSettings.has(k))
  .map(([k, v]) => `${k}=${quote(v ?? '')}`);
const args = process.argv.slice(2).map(quote);
const command = [...shown, 'npm run bench:api', ...(args.length ? ['--', ...args] : [])].join(' ');
const describe = (b: Build) => `${b.name}: ${b.main}${Object.keys(b.env).length ? ` with ${process.env.BENCH_BASELINE_ENV}` : ''} on ${b.node} (${b.version})`;

console.log(`
${table.join('\n')}

Contenders: ${builds.map(describe).join('; ')}${baseline ? '; each round both, in alternate order' : ''}.
Orders stored by the processors over all runs: ${applied} of ${acknowledged} acknowledged (the last run's 202s may still have been in Kafka).
Command: \`${command}\``);
