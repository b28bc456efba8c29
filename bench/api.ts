// The api role under a standard HTTP load generator (autocannon), one instance, as deployed
// (`order-stream api` from dist/, a child process):
//   1. POST throughput and latency: as many orders as the api can acknowledge (durable in Kafka)
//   2. end to end, POST with `Prefer: wait=5` at a fixed rate, a processor running: latency until
//      the verdict, and how many got one (201) before the wait ran out (202)
//   3. peak RSS of each role under those loads
//   4. with --auth both: run 1 again on a second api with AUTH_MODE=jwt (a key file, an ES256
//      token on every request), and the cost of verifying tokens against run 1 (AUTH_MODE=off)
//
//   npm run bench:api -- [--seconds 15] [--connections 100] [--rate 1000] [--auth off|both]
import { parseArgs } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { createAdmin } from '../src/kafka/clients.js';
import { ensureTopics } from '../src/kafka/topics.js';
import { createPool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { quietCheck, benchConfig, mb, peakRss, registerOrderContract } from './support.js';
import { DEV_AUDIENCE, DEV_ISSUER, devKeys, devToken } from '../src/cli/token.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '15' }, connections: { type: 'string', default: '100' }, rate: { type: 'string', default: '1000' }, auth: { type: 'string', default: 'off' } } });
if (values.auth !== 'off' && values.auth !== 'both') throw new Error(`--auth must be off or both (got ${values.auth})`);
const seconds = Number(values.seconds);
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

/** `port` serves the API, `port + 1` health and metrics (MANAGEMENT_PORT). */
function start(role: 'api' | 'processor', port: number, extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['dist/main.js', role], {
    env: {
      // AUTH_MODE=off and no rate limit unless extraEnv says otherwise (run 4): these figures
      // measure the api without authentication.
      ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), MANAGEMENT_PORT: String(port + 1),
      AUTH_MODE: 'off', RATE_LIMIT_MAX: '0',
      ORDERS_TOPIC: config.kafka.ordersTopic, ORDERS_DLQ_TOPIC: config.kafka.dlqTopic, PROCESSOR_GROUP_ID: config.kafka.groupId,
      ...extraEnv,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = async () => {
      const ready = await fetch(`http://127.0.0.1:${port + 1}/readyz`).then((r) => r.ok, () => false);
      if (ready) return resolve(child);
      if (Date.now() > deadline || child.exitCode !== null) return reject(new Error(`${role} did not become ready`));
      setTimeout(poll, 200);
    };
    void poll();
  });
}

function trackPeak(child: ChildProcess): () => number {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, peakRss(child.pid!))), 250);
  return () => {
    clearInterval(timer);
    return Math.max(peak, peakRss(child.pid!));
  };
}

let n = 0;
const body = () => JSON.stringify({ productId: products[n++ % products.length], qty: 1, unitPrice: 100 });

await quietCheck((line) => console.error(line), 'api run');
const apiPort = 18600 + Math.floor(Math.random() * 300);
const api = await start('api', apiPort);
const apiPeak = trackPeak(api);
const url = `http://127.0.0.1:${apiPort}/order-service/bench-user/orders`;

// Warm-up, then the measured run.
await autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body: body(), connections: 20, duration: 3 });
const throughput = await autocannon({
  url, method: 'POST', headers: { 'content-type': 'application/json' }, connections: Number(values.connections), duration: seconds,
  requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
});
const accepted = throughput['2xx'];

// 4. The same throughput run against an api that verifies a bearer token on every request.
let withTokens: autocannon.Result | undefined;
if (values.auth === 'both') {
  const keys = await devKeys(mkdtempSync(join(tmpdir(), 'bench-auth-')));
  const token = await devToken(keys, 'bench-user', [], 3600);
  const jwtApi = await start('api', apiPort + 4, { AUTH_MODE: 'jwt', AUTH_PUBLIC_KEY_FILE: keys.publicKeyFile, AUTH_ISSUER: DEV_ISSUER, AUTH_AUDIENCE: DEV_AUDIENCE });
  const jwtUrl = `http://127.0.0.1:${apiPort + 4}/order-service/bench-user/orders`;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  await autocannon({ url: jwtUrl, method: 'POST', headers, body: body(), connections: 20, duration: 3 });
  withTokens = await autocannon({
    url: jwtUrl, method: 'POST', headers, connections: Number(values.connections), duration: seconds,
    requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
  });
  jwtApi.kill('SIGTERM');
}

// The end-to-end run starts with the throughput run's backlog applied, so it measures latency,
// not the queue in front of it.
const processor = await start('processor', apiPort + 2);
const processorPeak = trackPeak(processor);
for (;;) {
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM orders WHERE product_id = ANY($1)`, [products]);
  if (rows[0].n >= accepted + (withTokens?.['2xx'] ?? 0)) break;
  await new Promise((resolve) => setTimeout(resolve, 500));
}
const rate = Number(values.rate);
const e2e = await autocannon({
  url, method: 'POST', headers: { 'content-type': 'application/json', prefer: 'wait=5' }, connections: Math.max(10, Math.ceil(rate / 20)),
  overallRate: rate, duration: seconds,
  requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
});
const verdicts = await pool.query(`SELECT count(*)::int AS n FROM orders WHERE product_id = ANY($1)`, [products]);
const withTokensRate = withTokens ? Math.round(withTokens['2xx'] / withTokens.duration) : undefined;
const withoutRate = Math.round(accepted / throughput.duration);

const apiRss = apiPeak();
const processorRss = processorPeak();
api.kill('SIGTERM');
processor.kill('SIGTERM');
await pool.end();

console.log(`
| api, one instance (${seconds} s per run) | value |
|---|---|
| POST /order-service/:userId/orders, ${values.connections} connections: acknowledged orders/s | **${Math.round(accepted / throughput.duration)}** |
| … latency p50 / p99 | ${throughput.latency.p50} ms / ${throughput.latency.p99} ms |
| … non-2xx / errors / timeouts | ${throughput.non2xx} / ${throughput.errors} / ${throughput.timeouts} |
| end to end at ${rate} orders/s with \`Prefer: wait=5\`: verdict latency p50 / p99 | **${e2e.latency.p50} ms** / ${e2e.latency.p99} ms |
| … requests sent / answered 2xx / non-2xx | ${e2e.requests.sent} / ${e2e['2xx']} / ${e2e.non2xx} |
| orders applied by the processor over all runs | ${verdicts.rows[0].n} |
| peak RSS: api / processor | ${mb(apiRss)} / ${mb(processorRss)} |${withTokens ? `
| the same POSTs with \`AUTH_MODE=jwt\` (ES256 token verified on each): acknowledged orders/s | **${withTokensRate}** (${(((withoutRate - withTokensRate!) / withoutRate) * 100).toFixed(1)} % below AUTH_MODE=off) |
| … latency p50 / p99; non-2xx | ${withTokens.latency.p50} ms / ${withTokens.latency.p99} ms; ${withTokens.non2xx} |` : ''}`);
