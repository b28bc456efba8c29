// Processor drain, side by side, on one pre-produced backlog (one run, one machine):
//   1. `order-stream processor` — this project, native client, as deployed (child process)
//   2. KafkaJS eachBatch with the very same planner and SQL (bench/peers/kafkajs-processor.ts)
//   3. PostgreSQL COPY of the same rows into the same tables — the database's limit
//   4. the native client consuming and decoding, no database — Kafka's limit
// Each database contender gets its own fresh schema (same tables, same catalog), each Kafka
// contender its own consumer group. Progress is read from committed offsets in Kafka, so measuring
// adds no load to the database.
//
//   npm run bench:drain -- [--orders 1000000] [--products 1000] [--partitions 6] [--only processor]
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createAdmin } from '../src/kafka/clients.js';
import { plan } from '../src/processor/plan.js';
import { committedTotal, consumeAndDecode, cpuJiffies, cpuSeconds, freshSchema, mb, peakRss, produceBacklog, type Backlog } from './support.js';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '1000000' },
    products: { type: 'string', default: '1000' },
    partitions: { type: 'string', default: '6' },
    only: { type: 'string' },
  },
});
const log = (line: string) => console.error(line);
const only = values.only;
const backlog = await produceBacklog(
  {
    orders: Number(values.orders), products: Number(values.products), partitions: Number(values.partitions),
    duplicateRate: 0.01, stockCoverage: 0.9, keepOrders: !only || only === 'copy', loadCatalog: false,
  },
  log,
);

interface Result {
  name: string;
  perSecond: number;
  seconds: number;
  rss?: number;
  cpu?: string;
  check: string;
}

async function countsIn(pool: Backlog['pool']) {
  const { rows } = await pool.query(`SELECT count(*)::int AS orders, count(*) FILTER (WHERE status = 'ACCEPTED')::int AS accepted, (SELECT sum(stock) FROM catalog)::bigint AS stock FROM orders`);
  return rows[0] as { orders: number; accepted: number; stock: number };
}

/** Runs a processor-like child on a fresh schema and group until it committed the whole backlog. */
async function drainWithChild(name: string, label: string, args: string[]): Promise<Result> {
  const schema = await freshSchema(backlog, name);
  const groupId = `${backlog.tag}-${name}`;
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: schema.url,
      ORDERS_TOPIC: backlog.config.kafka.ordersTopic, ORDERS_DLQ_TOPIC: backlog.config.kafka.dlqTopic, PROCESSOR_GROUP_ID: groupId,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const admin = createAdmin({ brokers: backlog.config.kafka.brokers });
  let firstAt = 0;
  let peak = 0;
  let cpuAtFirst = cpuJiffies();
  let childCpuAtFirst = 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (child.exitCode !== null) throw new Error(`${label} exited with ${child.exitCode}`);
    const done = await committedTotal(admin, groupId).catch(() => 0);
    peak = Math.max(peak, peakRss(child.pid!));
    if (done > 0 && !firstAt) {
      firstAt = performance.now();
      cpuAtFirst = cpuJiffies();
      childCpuAtFirst = cpuSeconds(child.pid!);
    }
    if (done >= backlog.messages) break;
  }
  const seconds = (performance.now() - firstAt) / 1000;
  const cpuAtEnd = cpuJiffies();
  const childCpu = cpuSeconds(child.pid!) - childCpuAtFirst;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  admin.disconnect();
  const counts = await countsIn(schema.pool);
  await schema.pool.end();
  return {
    name: label, seconds, perSecond: backlog.messages / seconds, rss: peak,
    cpu: `${((100 * (cpuAtEnd.busy - cpuAtFirst.busy)) / (cpuAtEnd.total - cpuAtFirst.total)).toFixed(0)} % machine, ${((100 * childCpu) / seconds).toFixed(0)} % of a core in-process`,
    check: counts.orders === backlog.uniqueOrders ? `${counts.orders} orders, ${counts.accepted} accepted ✓` : `MISMATCH: ${counts.orders} stored of ${backlog.uniqueOrders}`,
  };
}

/** The rows the processor would store, written with COPY, plus the stock update: the database's limit. */
async function copyBaseline(): Promise<Result> {
  const schema = await freshSchema(backlog, 'copy');
  const { orderRows: rows } = plan(
    backlog.orders.map((order, offset) => ({ type: 'OrderCreated' as const, event: order, partition: 0, offset })),
    { catalog: new Map(backlog.products.map((p) => [p, { stock: backlog.stock, unitPrice: 100 }])), orders: new Map(), stored: new Set() },
  );
  const lines = rows.map((r) =>
    `${r.order.orderId}\t${r.order.userId}\t${r.order.productId}\t${r.order.qty}\t${r.order.unitPrice}\t${r.order.totalPrice}\t${r.status}\t${r.reason ?? '\\N'}\t${new Date(r.order.createdAt).toISOString()}\t${r.partition}\t${r.offset}\n`,
  );
  const taken = new Map<string, number>();
  for (const r of rows) if (r.status === 'ACCEPTED') taken.set(r.order.productId, (taken.get(r.order.productId) ?? 0) + r.order.qty);
  const client = await schema.pool.connect();
  const startedAt = performance.now();
  await client.query('BEGIN');
  const chunks = function* () {
    for (let i = 0; i < lines.length; i += 10_000) yield lines.slice(i, i + 10_000).join('');
  };
  await pipeline(Readable.from(chunks()), client.query(copyFrom(
    'COPY orders (order_id, user_id, product_id, qty, unit_price, total_price, status, reason, created_at, source_partition, source_offset) FROM STDIN',
  )));
  await client.query(`UPDATE catalog c SET stock = c.stock - d.qty FROM unnest($1::text[], $2::bigint[]) AS d(product_id, qty) WHERE c.product_id = d.product_id`, [[...taken.keys()], [...taken.values()]]);
  await client.query('COMMIT');
  const seconds = (performance.now() - startedAt) / 1000;
  client.release();
  const counts = await countsIn(schema.pool);
  await schema.pool.end();
  return { name: 'PostgreSQL COPY of the same rows + stock update (database limit)', seconds, perSecond: backlog.messages / seconds, check: `${counts.orders} orders, ${counts.accepted} accepted` };
}

/** Consume and decode every message with the native client, no database: Kafka's limit here. */
async function kafkaBaseline(): Promise<Result> {
  const { seconds, messages } = await consumeAndDecode(backlog, `${backlog.tag}-kafka`);
  return { name: 'native client consume + Avro decode, no database (Kafka limit)', seconds, perSecond: backlog.messages / seconds, check: `${messages} messages` };
}

const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const results: Result[] = [];
if (!only || only === 'processor') results.push(await drainWithChild('processor', '**order-stream processor** (native client, this project)', [...nodeArgs, 'dist/main.js', 'processor']));
if (!only || only === 'kafkajs') results.push(await drainWithChild('kafkajs', 'KafkaJS eachBatch, same planner and SQL', ['--import', 'tsx', 'bench/peers/kafkajs-processor.ts']));
if (!only || only === 'copy') results.push(await copyBaseline());
if (!only || only === 'kafka') results.push(await kafkaBaseline());
await backlog.pool.end();

const ours = results[0]!.perSecond;
console.log(`
Backlog: ${backlog.messages} messages (${backlog.uniqueOrders} orders + ${backlog.messages - backlog.uniqueOrders} duplicate events), ${backlog.products.length} products, ${values.partitions} partitions, stock for 90 % of demand.

| contender | messages/s | ${results[0]!.name.replace(/\*/g, '').split(' (')[0]} ÷ contender | time | peak RSS | CPU while draining | result |
|---|---|---|---|---|---|---|
${results.map((r) => `| ${r.name} | ${Math.round(r.perSecond)} | ${(ours / r.perSecond).toFixed(2)}× | ${r.seconds.toFixed(1)} s | ${r.rss ? mb(r.rss) : '—'} | ${r.cpu ?? '—'} | ${r.check} |`).join('\n')}`);
if (results.some((r) => r.check.startsWith('MISMATCH'))) process.exitCode = 1;
