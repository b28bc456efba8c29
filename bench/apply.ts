// The apply step alone, against PostgreSQL: no Kafka, no decoding. Each round builds the same
// batches of OrderCreated events, applies them through applyBatch (the processor's transaction)
// and, in the same round, writes the same rows with COPY (the database's limit), each batch in its
// own transaction. It reports wall time and the PostgreSQL backend's own CPU (from /proc, the
// server runs on this machine) per order, and WAL bytes per order, so a change to the SQL can be
// judged where it costs: in the database.
//
//   node --import tsx bench/apply.ts [--batches 40] [--size 2500] [--products 1000] [--lanes 3] [--runs 3] [--duplicates 0.01] [--ids v4|v7] [--explain]
//
// --duplicates: the share of events that repeat a recent one of their lane, as bench:drain's backlog.
// --ids: random orderIds (v4, as an Idempotency-Key client's), or time-ordered (v7, as the api makes them without a key).
//
// --explain logs one batch's plan with EXPLAIN (ANALYZE, BUFFERS, WAL) via auto_explain into the
// server log (the stack's postgres.log).
import { parseArgs } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { createPool, type Pool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { applyBatch } from '../src/processor/apply.js';
import type { BatchEvent } from '../src/processor/plan.js';
import { loadStackEnv } from './stack.js';
import { cpuSeconds, idGenerator, loadCatalog } from './support.js';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '40' },
    size: { type: 'string', default: '2500' },
    products: { type: 'string', default: '1000' },
    lanes: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
    explain: { type: 'boolean', default: false },
    duplicates: { type: 'string', default: '0.01' },
    ids: { type: 'string', default: 'v4' },
  },
});
loadStackEnv();
const batches = Number(values.batches);
const size = Number(values.size);
const productCount = Number(values.products);
const lanes = Number(values.lanes);
const duplicates = Number(values.duplicates);
const newId = idGenerator(values.ids);
const products = Array.from({ length: productCount }, (_, i) => `P-${String(i).padStart(4, '0')}`);

// The events each lane sent last, across its batches: what a duplicate repeats.
const recent = new Map<number, BatchEvent[]>();

function makeBatch(lane: number, n: number): BatchEvent[] {
  // A lane owns 1/lanes of the products, as partitions do in the processor.
  const mine = products.filter((_, i) => i % lanes === lane);
  const now = Date.now();
  const sent = recent.get(lane) ?? [];
  recent.set(lane, sent);
  return Array.from({ length: size }, (_, i) => {
    // As in bench:drain's backlog: a duplicate repeats one of the partition's last ~170 events,
    // so near a batch's start it repeats one the previous batch stored (a replay to detect).
    if (sent.length && Math.random() < duplicates) return { ...sent[Math.max(0, sent.length - 1 - Math.floor(Math.random() * 170))]!, offset: n * size + i };
    const productId = mine[(i * 7 + n) % mine.length]!;
    const qty = 1 + (i % 5);
    const event = { type: 'OrderCreated', event: { orderId: newId(), userId: `user-${(n * size + i) % 5000}`, productId, qty, unitPrice: 100, totalPrice: qty * 100, createdAt: now }, partition: lane, offset: n * size + i } as BatchEvent;
    sent.push(event);
    if (sent.length > 1000) sent.splice(0, 500);
    return event;
  });
}

async function freshSchema(root: Pool, name: string): Promise<Pool> {
  await root.query(`DROP SCHEMA IF EXISTS ${name} CASCADE; CREATE SCHEMA ${name}`);
  const url = new URL(process.env.DATABASE_URL!);
  url.searchParams.set('options', `-c search_path=${name}`);
  const pool = createPool(url.toString(), lanes + 1);
  await migrate(pool, { lockKey: 0x61707062 });
  await loadCatalog(pool, products, 1_000_000_000);
  return pool;
}

/** CPU seconds (user + system) of the given PostgreSQL backends. */
const backendCpu = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

async function backends(pool: Pool, n: number): Promise<number[]> {
  const clients = await Promise.all(Array.from({ length: n }, () => pool.connect()));
  const pids = await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid));
  clients.forEach((c) => c.release());
  return pids;
}

async function walLsn(pool: Pool): Promise<bigint> {
  const { rows } = await pool.query<{ lsn: string }>(`SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn AS lsn`);
  return BigInt(rows[0]!.lsn);
}

const COPY_STOCK = `UPDATE catalog c SET stock = c.stock - d.qty, updated_at = now() FROM unnest($1::text[], $2::bigint[]) AS d(product_id, qty) WHERE c.product_id = d.product_id`;

const copied = new Set<string>();

async function copyBatch(pool: Pool, batch: BatchEvent[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // The limit writes each order once: it skips the repeats without asking the database.
    const idOf = (b: BatchEvent) => (b.event as { orderId: string }).orderId;
    const unique = batch.filter((b) => !copied.has(idOf(b)) && copied.add(idOf(b)));
    const lines = unique.map((b) => {
      const o = b.event as Extract<BatchEvent, { type: 'OrderCreated' }>['event'];
      return `${o.orderId}\t${o.userId}\t${o.productId}\t${o.qty}\t${o.unitPrice}\t${o.totalPrice}\tACCEPTED\t\\N\t${new Date(o.createdAt).toISOString()}\t${b.partition}\t${b.offset}\n`;
    });
    await pipeline(Readable.from([lines.join('')]), client.query(copyFrom(`COPY orders (order_id, user_id, product_id, qty, unit_price, total_price, status, reason, created_at, source_partition, source_offset) FROM STDIN`)));
    const byProduct = new Map<string, number>();
    for (const b of unique) byProduct.set(b.event.productId, (byProduct.get(b.event.productId) ?? 0) + (b.event as { qty: number }).qty);
    await client.query(COPY_STOCK, [[...byProduct.keys()], [...byProduct.values()]]);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

interface Figure { name: string; ordersPerSecond: number; pgCpuUsPerOrder: number; walBytesPerOrder: number }

async function measure(name: string, pool: Pool, work: (lane: number, n: number) => Promise<void>): Promise<Figure> {
  const pids = await backends(pool, lanes);
  const cpu0 = backendCpu(pids);
  const wal0 = await walLsn(pool);
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
    for (let n = lane; n < batches; n += lanes) await work(lane, n);
  }));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const wal = Number((await walLsn(pool)) - wal0);
  const orders = batches * size;
  return { name, ordersPerSecond: Math.round(orders / seconds), pgCpuUsPerOrder: +(((backendCpu(pids) - cpu0) * 1e6) / orders).toFixed(2), walBytesPerOrder: Math.round(wal / orders) };
}

const root = createPool(process.env.DATABASE_URL!, 2);
const results: Figure[][] = [];
for (let run = 1; run <= Number(values.runs); run++) {
  recent.clear();
  copied.clear();
  const prepared = Array.from({ length: batches }, (_, n) => makeBatch(n % lanes, n));
  const applyPool = await freshSchema(root, 'bench_apply');
  const copyPool = await freshSchema(root, 'bench_copy');
  if (values.explain && run === 1) {
    // One connection, so the session's auto_explain settings apply to applyBatch's transaction.
    const url = new URL(process.env.DATABASE_URL!);
    url.searchParams.set('options', '-c search_path=bench_apply');
    const one = createPool(url.toString(), 1);
    await one.query(`LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on; SET auto_explain.log_wal = on; SET auto_explain.log_nested_statements = on`);
    await applyBatch(one, makeBatch(0, batches));
    await one.end();
    console.error('explain: one batch logged by auto_explain to the server log');
  }
  const hints: Set<string>[] = [];
  const round = [
    // Each lane keeps the processor's hint: the ids it stored with its previous batch.
    await measure('applyBatch (processor transaction)', applyPool, async (lane, n) => void (await applyBatch(applyPool, prepared[n]!, (hints[lane] ??= new Set())))),
    await measure('COPY + stock update, same batches', copyPool, async (_lane, n) => copyBatch(copyPool, prepared[n]!)),
  ];
  results.push(round);
  console.error(`round ${run}: ${round.map((f) => `${f.name} ${f.ordersPerSecond}/s, PG ${f.pgCpuUsPerOrder} µs, WAL ${f.walBytesPerOrder} B per order`).join(' | ')}`);
  await applyPool.end();
  await copyPool.end();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`\n${batches} batches of ${size} orders (${duplicates * 100} % repeats), ${lanes} lanes, ${productCount} products, ${values.ids} ids, ${results.length} round(s), median (min–max)\n`);
console.log('| contender | orders/s | PostgreSQL CPU µs per order | WAL bytes per order |\n|---|---|---|---|');
for (let i = 0; i < results[0]!.length; i++) {
  const col = (pick: (f: Figure) => number) => { const xs = results.map((r) => pick(r[i]!)); return `${median(xs)} (${Math.min(...xs)}–${Math.max(...xs)})`; };
  console.log(`| ${results[0]![i]!.name} | ${col((f) => f.ordersPerSecond)} | ${col((f) => f.pgCpuUsPerOrder)} | ${col((f) => f.walBytesPerOrder)} |`);
}
const ratios = results.map((r) => r[0]!.ordersPerSecond / r[1]!.ordersPerSecond);
console.log(`\napplyBatch ÷ COPY orders/s: ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`);
await root.query('DROP SCHEMA IF EXISTS bench_apply CASCADE; DROP SCHEMA IF EXISTS bench_copy CASCADE');
await root.end();
