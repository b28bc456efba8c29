// Processor drain, side by side, on pre-produced backlogs (one machine, interleaved rounds):
//   1. `order-stream processor` — this project, native client, as deployed (child process)
//   2. the same processor on issue 12's mixed backlog (80 % creations, 10 % cancellations, 10 % restocks)
//   3. KafkaJS eachBatch with the very same planner and SQL (bench/peers/kafkajs-processor.ts)
//   4. PostgreSQL COPY of the same rows into the same tables — the database's limit
//   5. the native client consuming and decoding, no database — Kafka's limit
//   6. the notes' Kafka Connect JDBC sink, rows only (bench/peers/connect-sink.ts; with a worker)
// Each database contender gets its own fresh schema (same tables, same catalog), each Kafka
// contender its own consumer group. Progress is read from committed offsets in Kafka, so measuring
// adds no load to the database. CPU is the child's own (user + system from /proc, per thread too),
// counted from the moment its consumer group is Stable (or its first commit, if seen first) to its
// last commit, so other processes on the box barely move it. The processor-like children run in
// a memory cgroup limited like the processor's container (--memory-limit), as deployed.
// Every figure is the median of --runs rounds, with the spread (min–max); ratios are taken within
// a round, then the median of those.
//
//   npm run bench:drain -- [--orders 1000000] [--products 1000] [--partitions 6] [--runs 3]
//                          [--only processor,mixed,kafkajs,copy,kafka,connect] [--json file] [--label text]
//                          [--memory-limit MiB (0: none)] [--compression lz4|none] [--ids v4|v7]
// Processor settings reach the child through the environment (PROCESSOR_BATCH_MAX_MESSAGES,
// PROCESSOR_APPLY_CONCURRENCY, …); BENCH_NODE_ARGS adds node flags (e.g. --cpu-prof) to it.
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { cpus } from 'node:os';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createAdmin } from '../src/kafka/clients.js';
import { plan } from '../src/processor/plan.js';
import { CONNECT_LABEL, drainWithConnect, restoreWorker } from './peers/connect-sink.js';
import { quietCheck, idGenerator, committedTotal, windowOpens, consumeAndDecode, cpuJiffies, cpuSeconds, deployedProcessorMemory, processorRuntimeEnv, envList, freshSchema, inCgroup, mb, memoryCgroup, peakRss, produceBacklog, threadCpu, type Backlog } from './support.js';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '1000000' },
    products: { type: 'string', default: '1000' },
    partitions: { type: 'string', default: '6' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    json: { type: 'string', default: 'bench/results/drain.json' },
    label: { type: 'string', default: '' },
    compression: { type: 'string', default: 'lz4' },
    ids: { type: 'string', default: 'v4' },
    // MiB; default: the processor container's limit in deploy/k8s/base; 0 runs without a limit.
    'memory-limit': { type: 'string' },
  },
});
const log = (line: string) => console.error(line);
const CONTENDERS = ['processor', 'mixed', 'kafkajs', 'copy', 'kafka', 'connect', 'baseline', 'variant'] as const;
type Contender = (typeof CONTENDERS)[number];
// Before/after in one run: BENCH_BASELINE names another build's dist/main.js, and/or BENCH_BASELINE_ENV
// ("NAME=value NAME=value") other settings, for a second processor contender.
const BASELINE_ENV = envList(process.env.BENCH_BASELINE_ENV);
const BASELINE = process.env.BENCH_BASELINE ?? (process.env.BENCH_BASELINE_ENV ? 'dist/main.js' : undefined);
// BENCH_BASELINE_NODE: the node binary that runs the baseline build (another runtime, same run);
// that build's folder must hold node_modules built for it (the native client is an addon).
const BASELINE_NODE = process.env.BENCH_BASELINE_NODE ?? process.execPath;
// BENCH_VARIANT_ENV ("NAME=value …"): this build with other settings, as one more contender.
const VARIANT_ENV = envList(process.env.BENCH_VARIANT_ENV);
// BENCH_VARIANT_NODE_ARGS ("--flag …"): node flags for the variant only (V8 flags NODE_OPTIONS refuses).
const VARIANT_NODE_ARGS = (process.env.BENCH_VARIANT_NODE_ARGS ?? '').split(' ').filter(Boolean);
const only = new Set((values.only ?? CONTENDERS.filter((c) => (c !== 'baseline' || BASELINE) && (c !== 'connect' || process.env.CONNECT_URL) && (c !== 'variant' || process.env.BENCH_VARIANT_ENV || VARIANT_NODE_ARGS.length)).join(',')).split(',').map((s) => s.trim()) as Contender[]);
for (const name of only) if (!CONTENDERS.includes(name)) throw new Error(`--only: unknown contender ${name} (one of ${CONTENDERS.join(', ')})`);
const runs = Number(values.runs);
const orders = Number(values.orders);
// The processor-like children (processor, its baseline and variant, the KafkaJS peer) run as
// deployed: in a memory cgroup limited like the processor's container, whose limit Node.js sizes
// V8's heap from. Without one (not root), RSS is that of an unlimited host, and the header says so.
const memoryLimit = values['memory-limit'] !== undefined ? Number(values['memory-limit']) * 1048576 : deployedProcessorMemory();
const cgroupProcs = memoryLimit > 0 ? memoryCgroup('order-stream-bench', memoryLimit) : undefined;
// This build (processor, mixed, variant) runs with the runtime settings it is deployed with (the
// image's ENV, the processor container's NODE_OPTIONS: processorRuntimeEnv); another build
// (baseline) and the KafkaJS peer with Node.js's defaults, unless BENCH_BASELINE_ENV says more.
const RUNTIME_ENV = processorRuntimeEnv();
const limitNote = memoryLimit > 0 ? (cgroupProcs ? `children in a ${mb(memoryLimit)} memory cgroup (the processor container's limit)` : `no memory cgroup (cgroups not writable here): RSS as on an unlimited host`) : 'children without a memory limit';
const memoryNote = `${limitNote}${Object.keys(RUNTIME_ENV).length ? `; this build with its deployed ${Object.entries(RUNTIME_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`;
if (values.compression !== 'lz4' && values.compression !== 'none') throw new Error('--compression: lz4 or none');
idGenerator(values.ids); // fails now on an unknown --ids, not after the first backlog
const shape = { compression: values.compression as 'lz4' | 'none', ids: values.ids as 'v4' | 'v7', orders, products: Number(values.products), partitions: Number(values.partitions), duplicateRate: 0.01, stockCoverage: 0.9, loadCatalog: false };

const LABELS: Record<Contender, string> = {
  processor: '**order-stream processor** (native client, this project)',
  mixed: 'order-stream processor, mixed backlog (80 % creations, 10 % cancellations, 10 % restocks)',
  kafkajs: 'KafkaJS eachBatch (real kafkajs), same planner and SQL',
  copy: 'PostgreSQL COPY of the same rows + stock update (database limit)',
  kafka: 'native client consume + Avro decode, no database (Kafka limit)',
  connect: CONNECT_LABEL,
  variant: `order-stream processor with ${[process.env.BENCH_VARIANT_ENV, ...VARIANT_NODE_ARGS].filter(Boolean).join(' ')}`,
  baseline: `order-stream processor, baseline (${BASELINE}${process.env.BENCH_BASELINE_NODE ? ` on ${process.env.BENCH_BASELINE_NODE}` : ''}${process.env.BENCH_BASELINE_ENV ? ` with ${process.env.BENCH_BASELINE_ENV}` : ''})`,
};

interface Result {
  contender: Contender;
  run: number;
  messages: number;
  perSecond: number;
  seconds: number;
  /** The child's CPU seconds while draining (user + system), and split by thread. */
  cpuSeconds?: number;
  threads?: Record<string, number>;
  cpuPerOrderUs?: number;
  rss?: number;
  memoryAtPeak?: Memory;
  machineCpu?: number;
  /** Our processor's batches (its /metrics): how many, and their mean size and apply time. */
  batches?: { count: number; meanMessages: number; meanApplyMs: number };
  check: string;
  ok: boolean;
}

const needsCreates = ['processor', 'kafkajs', 'copy', 'kafka', 'connect', 'baseline', 'variant'].some((c) => only.has(c as Contender));
log(`producing the backlog${only.has('mixed') ? 's' : ''} (${orders} events each)`);
const backlog = needsCreates ? await produceBacklog({ ...shape, keepOrders: only.has('copy') }, log) : undefined;
const mixed = only.has('mixed') ? await produceBacklog({ ...shape, mixShare: 0.1 }, log) : undefined;

// One admin client for the whole run (reading group offsets), and every child killed if we stop.
const admin = createAdmin({ brokers: (backlog ?? mixed!).config.kafka.brokers });
const children = new Set<ReturnType<typeof spawn>>();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

async function countsIn(pool: Backlog['pool'], b: Backlog) {
  const { rows } = await pool.query(`
    SELECT (SELECT count(*) FROM orders)::int AS orders,
           (SELECT count(*) FROM orders WHERE status = 'ACCEPTED')::int AS accepted,
           (SELECT count(*) FROM orders WHERE status = 'CANCELLED')::int AS cancelled,
           (SELECT count(*) FROM stock_additions WHERE status = 'STOCKED')::int AS restocks,
           (SELECT sum(stock) FROM catalog)::bigint AS stock,
           (SELECT count(*) FROM catalog WHERE stock < 0)::int AS negative,
           $1::bigint + (SELECT coalesce(sum(qty), 0) FROM stock_additions WHERE status = 'STOCKED')
             - (SELECT coalesce(sum(qty), 0) FROM orders WHERE status = 'ACCEPTED') AS expected_stock`, [b.stock * b.products.length]);
  return rows[0] as { orders: number; accepted: number; cancelled: number; restocks: number; stock: string; negative: number; expected_stock: string };
}

/** Runs a processor-like child on a fresh schema and group until it committed the whole backlog. */
async function drainWithChild(contender: Contender, run: number, b: Backlog, args: string[], extraEnv: Record<string, string> = {}, node = process.execPath): Promise<Result> {
  const schema = await freshSchema(b, `${contender}${run}`);
  const groupId = `${b.tag}-${contender}-${run}`;
  const port = await freePort();
  const [command, commandArgs] = inCgroup(cgroupProcs, node, args);
  const child = spawn(command, commandArgs, {
    env: {
      // MANAGEMENT_PORT serves /metrics (PORT still does for baselines built before the management port).
      ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: String(port), MANAGEMENT_PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: schema.url,
      ORDERS_TOPIC: b.config.kafka.ordersTopic, ORDERS_DLQ_TOPIC: b.config.kafka.dlqTopic, PROCESSOR_GROUP_ID: groupId, ...(contender === 'kafkajs' || contender === 'baseline' ? {} : RUNTIME_ENV), ...extraEnv,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.add(child);
  let firstAt = 0;
  let before = { at: performance.now(), machine: cpuJiffies(), cpu: 0, threads: new Map<string, number>() };
  let peak = 0;
  let machineAtFirst = cpuJiffies();
  let cpuAtFirst = 0;
  let threadsAtFirst = new Map<string, number>();
  let done = 0;
  let lastAt = 0;
  /** The child's memory when its RSS was highest while draining: V8 heap vs the rest. */
  let memory: Memory = { rss: 0 };
  const timeoutAt = performance.now() + Math.max(600_000, b.messages); // a stuck contender fails the run
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (child.exitCode !== null) throw new Error(`${contender} exited with ${child.exitCode}`);
    if (performance.now() > timeoutAt) throw new Error(`${contender} did not finish: ${done} of ${b.messages} committed`);
    const now = await committedTotal(admin, groupId).catch(() => done);
    const rssNow = currentRss(child.pid!);
    if (rssNow > memory.rss && now > 0 && contender !== 'kafkajs') memory = { rss: rssNow, ...(await heapOf(port)) };
    peak = Math.max(peak, peakRss(child.pid!));
    // The window opens at the last sample before the group became Stable or the first commit (at
    // most 100 ms early): from there the contender fetches, however late it commits (groupConsuming).
    if (!firstAt) {
      if (await windowOpens(admin, groupId, now)) firstAt = before.at;
      else before = { at: performance.now(), machine: cpuJiffies(), cpu: cpuSeconds(child.pid!), threads: threadCpu(child.pid!) };
      machineAtFirst = before.machine;
      cpuAtFirst = before.cpu;
      threadsAtFirst = before.threads;
    }
    if (now > done) lastAt = performance.now();
    done = now;
    if (done >= b.messages) break;
  }
  const seconds = (lastAt - firstAt) / 1000;
  const machine = cpuJiffies();
  const cpu = cpuSeconds(child.pid!) - cpuAtFirst;
  const threads: Record<string, number> = {};
  for (const [name, s] of threadCpu(child.pid!)) threads[name] = +(s - (threadsAtFirst.get(name) ?? 0)).toFixed(2);
  peak = Math.max(peak, peakRss(child.pid!));
  const batches = contender === 'kafkajs' ? undefined : await batchesOf(port);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  children.delete(child);
  const counts = await countsIn(schema.pool, b);
  await schema.pool.end();
  await dropSchema(b, `${contender}${run}`);
  const stockOk = String(counts.stock) === String(counts.expected_stock) && counts.negative === 0;
  const ok = counts.orders === b.uniqueOrders && stockOk;
  const check = ok
    ? `${counts.orders} orders, ${counts.accepted} accepted${counts.cancelled ? `, ${counts.cancelled} cancelled, ${counts.restocks} restocks` : ''}, stock = initial + restocks − accepted ✓`
    : `MISMATCH: ${counts.orders} stored of ${b.uniqueOrders}, stock ${counts.stock} (expected ${counts.expected_stock}, ${counts.negative} negative)`;
  return {
    contender, run, messages: b.messages, seconds, perSecond: b.messages / seconds, cpuSeconds: +cpu.toFixed(2), threads,
    cpuPerOrderUs: +((cpu * 1e6) / b.messages).toFixed(2), rss: peak, memoryAtPeak: memory,
    machineCpu: +((100 * (machine.busy - machineAtFirst.busy)) / (machine.total - machineAtFirst.total)).toFixed(0), batches, check, ok,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Current RSS (VmRSS) of a live process, bytes. */
function currentRss(pid: number): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return match ? Number(match[1]) * 1024 : 0;
}

interface Memory { rss: number; heap?: number; heapUsed?: number; newSpace?: number; external?: number }

/**
 * The child's /metrics, as a lookup of one sample's value by metric name (NaN when absent); a name
 * may carry an escaped label set, e.g. `name\\{space="new"[^}]*\\}`.
 */
async function scrape(port: number): Promise<(name: string) => number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
  return (name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
}

/** The processor's batch count, mean size and mean apply time, from its /metrics histograms. */
async function batchesOf(port: number): Promise<Result['batches']> {
  try {
    const value = await scrape(port);
    const count = value('orderstream_processor_batch_messages_count');
    if (!(count > 0)) return undefined;
    const meanMessages = +(value('orderstream_processor_batch_messages_sum') / count).toFixed(0);
    const meanApplyMs = +((1000 * value('orderstream_processor_apply_duration_seconds_sum')) / value('orderstream_processor_apply_duration_seconds_count')).toFixed(1);
    return { count, meanMessages, meanApplyMs };
  } catch {
    return undefined;
  }
}

/**
 * V8 heap (committed and used; the young generation's share of the committed) and external memory
 * from the child's /metrics (prom-client default metrics).
 */
async function heapOf(port: number): Promise<Omit<Memory, 'rss'>> {
  try {
    const value = await scrape(port);
    return {
      heap: value('orderstream_nodejs_heap_size_total_bytes'), heapUsed: value('orderstream_nodejs_heap_size_used_bytes'),
      newSpace: value('orderstream_nodejs_heap_space_size_total_bytes\\{space="new"[^}]*\\}'), external: value('orderstream_nodejs_external_memory_bytes'),
    };
  } catch {
    return {};
  }
}

async function dropSchema(b: Backlog, name: string): Promise<void> {
  const schema = `${b.tag}_${name}`.replace(/[^a-z0-9_]/g, '_');
  await b.pool.query(`DROP SCHEMA ${schema} CASCADE`);
}

/** The rows the processor would store, written with COPY, plus the stock update: the database's limit. */
async function copyBaseline(run: number, b: Backlog): Promise<Result> {
  const schema = await freshSchema(b, `copy${run}`);
  const { orderRows: rows } = plan(
    b.orders.map((order, offset) => ({ type: 'OrderCreated' as const, event: order, partition: 0, offset })),
    { catalog: new Map(b.products.map((p) => [p, { stock: b.stock, unitPrice: 100 }])), orders: new Map(), stored: new Set() },
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
  const counts = await countsIn(schema.pool, b);
  await schema.pool.end();
  await dropSchema(b, `copy${run}`);
  return { contender: 'copy', run, messages: b.messages, seconds, perSecond: b.messages / seconds, check: `${counts.orders} orders, ${counts.accepted} accepted`, ok: counts.orders === b.uniqueOrders };
}

/** Consume and decode every message with the native client, no database: Kafka's limit here. */
async function kafkaBaseline(run: number, b: Backlog): Promise<Result> {
  const { seconds, messages } = await consumeAndDecode({ brokers: b.config.kafka.brokers, topic: b.config.kafka.ordersTopic, serde: b.serde, total: b.messages }, `${b.tag}-kafka-${run}`);
  return { contender: 'kafka', run, messages, seconds, perSecond: b.messages / seconds, check: `${messages} messages`, ok: messages >= b.messages };
}

const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const results: Result[] = [];
const record = (r: Result) => {
  results.push(r);
  log(`  run ${r.run} ${r.contender}: ${Math.round(r.perSecond)} msg/s${r.cpuPerOrderUs !== undefined ? `, ${r.cpuPerOrderUs} µs CPU/msg, RSS ${mb(r.rss!)}` : ''}${r.batches ? `, ${r.batches.count} batches of ${r.batches.meanMessages} messages, ${r.batches.meanApplyMs} ms each` : ''} — ${r.check}`);
};
const drains: [Contender, (run: number) => Promise<Result>][] = [
  ['processor', (run) => drainWithChild('processor', run, backlog!, [...nodeArgs, 'dist/main.js', 'processor'])],
  ['baseline', (run) => drainWithChild('baseline', run, backlog!, [...nodeArgs, BASELINE!, 'processor'], BASELINE_ENV, BASELINE_NODE)],
  ['variant', (run) => drainWithChild('variant', run, backlog!, [...nodeArgs, ...VARIANT_NODE_ARGS, 'dist/main.js', 'processor'], VARIANT_ENV)],
  ['kafkajs', (run) => drainWithChild('kafkajs', run, backlog!, ['--import', 'tsx', 'bench/peers/kafkajs-processor.ts'])],
  ['mixed', (run) => drainWithChild('mixed', run, mixed!, [...nodeArgs, 'dist/main.js', 'processor'])],
  ['copy', (run) => copyBaseline(run, backlog!)],
  ['kafka', (run) => kafkaBaseline(run, backlog!)],
  ['connect', (run) => drainWithConnect(run, backlog!, admin)],
];
const chosen = drains.filter(([contender]) => only.has(contender));
for (let run = 1; run <= runs; run++) {
  await quietCheck(log, `round ${run}`);
  // Each round starts one place further down the list, so no contender always follows the same
  // one; and each starts from a checkpointed database, so none pays for the writes of the one
  // before it (its dirty buffers, the checkpoint they trigger and the full-page images after it).
  for (let i = 0; i < chosen.length; i++) {
    const [contender, drain] = chosen[(i + run - 1) % chosen.length]!;
    if (contender !== 'kafka') await (backlog ?? mixed)!.pool.query('CHECKPOINT');
    record(await drain(run));
  }
}
if (only.has('connect')) await restoreWorker();
await backlog?.pool.end();
await mixed?.pool.end();
admin.disconnect();

// ---- summary: medians with spread, ratios within a round ----
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const stats = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), values: xs });
type Stats = ReturnType<typeof stats>;
const of = (c: Contender) => results.filter((r) => r.contender === c);
const fmt = (s: Stats, digits = 0, unit = '') => `${s.median.toFixed(digits)}${unit} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
/** Per round: f(ours, theirs); median over rounds. */
const ratio = (a: Contender, b: Contender, f: (x: Result, y: Result) => number): Stats | undefined => {
  const xs: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const x = of(a).find((r) => r.run === run);
    const y = of(b).find((r) => r.run === run);
    if (x && y) xs.push(f(x, y));
  }
  return xs.length ? stats(xs) : undefined;
};

const summary: Record<string, unknown> = {};
const rows: string[] = [];
for (const c of CONTENDERS) {
  const rs = of(c);
  if (!rs.length) continue;
  const rate = stats(rs.map((r) => r.perSecond));
  const cpu = rs[0]!.cpuPerOrderUs !== undefined ? stats(rs.map((r) => r.cpuPerOrderUs!)) : undefined;
  const rss = rs[0]!.rss !== undefined ? stats(rs.map((r) => r.rss! / 1048576)) : undefined;
  const core = rs[0]!.cpuSeconds !== undefined ? stats(rs.map((r) => (100 * r.cpuSeconds!) / r.seconds)) : undefined;
  const machine = rs[0]!.machineCpu !== undefined ? stats(rs.map((r) => r.machineCpu!)) : undefined;
  // Thread split, median per thread name, as µs per message.
  const names = new Set(rs.flatMap((r) => Object.keys(r.threads ?? {})));
  const split = [...names]
    .map((n) => [n, median(rs.map((r) => ((r.threads?.[n] ?? 0) * 1e6) / r.messages))] as const)
    .filter(([, us]) => us >= 0.05)
    .sort((x, y) => y[1] - x[1])
    .map(([n, us]) => `${n} ${us.toFixed(1)}`)
    .join(', ');
  // MB statistics of one memory figure at the RSS peak (not support's mb, which formats bytes).
  const atPeak = (pick: (m: Memory) => number | undefined) => (rs[0]!.memoryAtPeak && pick(rs[0]!.memoryAtPeak) !== undefined ? stats(rs.map((r) => (pick(r.memoryAtPeak!) ?? NaN) / 1048576)) : undefined);
  const heap = atPeak((m) => m.heap);
  const heapUsed = atPeak((m) => m.heapUsed);
  const newSpace = atPeak((m) => m.newSpace);
  summary[c] = { label: LABELS[c], heapAtPeakMB: heap, heapUsedAtPeakMB: heapUsed, newSpaceAtPeakMB: newSpace, perSecond: rate, cpuPerOrderUs: cpu, rssMB: rss, coreShare: core, machineCpu: machine, threadsUsPerMessage: split, checks: rs.map((r) => r.check), ok: rs.every((r) => r.ok) };
  rows.push(`| ${LABELS[c]} | ${fmt(rate)} | ${cpu ? fmt(cpu, 2) : '—'} | ${split || '—'} | ${rss ? fmt(rss, 0, ' MB') : '—'}${heap && !Number.isNaN(heap.median) ? ` (V8 heap ${heap.median.toFixed(0)} MB${heapUsed && !Number.isNaN(heapUsed.median) ? `, ${heapUsed.median.toFixed(0)} used, young ${newSpace?.median.toFixed(0)}` : ''})` : ''} | ${core ? fmt(core, 0, ' %') : '—'} / ${machine ? fmt(machine, 0, ' %') : '—'} | ${rs.every((r) => r.ok) ? '✓ ' : '✗ '}${rs[0]!.check} |`);
}

// Issue 17's targets; "shown" rows are reported without a goal.
const targets: Array<[string, Stats | undefined, (s: Stats) => boolean, string, number]> = [
  ['processor messages/s ÷ baseline build’s', ratio('processor', 'baseline', (x, y) => x.perSecond / y.perSecond), (s) => s.median >= 2, '≥ 2.0×', 2],
  ['processor messages/s ÷ KafkaJS peer’s', ratio('processor', 'kafkajs', (x, y) => x.perSecond / y.perSecond), (s) => s.median >= 1.25, '≥ 1.25×', 2],
  ['processor messages/s ÷ COPY limit', ratio('processor', 'copy', (x, y) => x.perSecond / y.perSecond), (s) => s.median >= 0.6, '≥ 0.60', 2],
  ['processor CPU per message ÷ KafkaJS peer’s', ratio('processor', 'kafkajs', (x, y) => x.cpuPerOrderUs! / y.cpuPerOrderUs!), (s) => s.median <= 1, '≤ 1.0×', 2],
  ['processor peak RSS (MB), default settings', of('processor').length ? stats(of('processor').map((r) => r.rss! / 1048576)) : undefined, (s) => s.max <= 200, '≤ 200 MB', 0],
  ['processor messages/s ÷ Connect JDBC sink’s (rows only)', ratio('processor', 'connect', (x, y) => x.perSecond / y.perSecond), (s) => s.median >= 2, '≥ 2.0×', 2],
  ['mixed backlog messages/s ÷ creations-only', ratio('mixed', 'processor', (x, y) => x.perSecond / y.perSecond), (s) => s.median >= 0.95, '≥ 0.95× (as fast)', 2],
  ['processor CPU per message ÷ baseline build’s', ratio('processor', 'baseline', (x, y) => x.cpuPerOrderUs! / y.cpuPerOrderUs!), () => true, 'shown', 2],
  ['processor CPU per message ÷ Connect JDBC sink’s', ratio('processor', 'connect', (x, y) => x.cpuPerOrderUs! / y.cpuPerOrderUs!), () => true, 'shown', 2],
  ['variant CPU per message ÷ processor’s', ratio('variant', 'processor', (x, y) => x.cpuPerOrderUs! / y.cpuPerOrderUs!), () => true, 'shown', 2],
  ['variant messages/s ÷ processor’s', ratio('variant', 'processor', (x, y) => x.perSecond / y.perSecond), () => true, 'shown', 2],
];
summary.targets = Object.fromEntries(targets.map(([name, s, met, goal]) => [name, s ? { ...s, goal, met: met(s) } : undefined]));

const b = backlog ?? mixed!;
const settings = Object.entries(process.env).filter(([k]) => k.startsWith('PROCESSOR_') || k === 'NODE_OPTIONS').map(([k, v]) => `${k}=${v}`);
const header = `Backlog: ${b.messages} messages (${orders} events + ~1 % duplicates) per backlog, ${b.products.length} products, ${values.partitions} partitions, stock for 90 % of demand, ${values.compression} compression, ${values.ids === 'v7' ? "time-ordered (v7)" : "random (v4)"} ids; ${runs} round(s), median (min–max), contenders in an order rotated each round, each after a CHECKPOINT. Processor settings: ${settings.join(' ') || 'defaults'}${nodeArgs.length ? `; node ${nodeArgs.join(' ')}` : ''}; ${memoryNote}.`;
console.log(`
${header}

| contender | messages/s | CPU µs per message (in-process) | per thread, µs per message | peak RSS | CPU: in-process (% of a core) / machine | result |
|---|---|---|---|---|---|---|
${rows.join('\n')}

| target | measured (median, min–max over rounds) | goal | status |
|---|---|---|---|
${targets.filter(([, s]) => s).map(([name, s, met, goal, d]) => `| ${name} | ${fmt(s!, d)} | ${goal} | ${goal === 'shown' ? '—' : met(s!) ? 'met' : '**missed**'} |`).join('\n')}`);

if (values.json) {
  mkdirSync(dirname(values.json), { recursive: true });
  writeFileSync(values.json, JSON.stringify({
    label: values.label, at: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    shape: { ...shape, runs, messages: { creations: backlog?.messages, mixed: mixed?.messages } }, settings, nodeArgs, memory: memoryNote, results, summary,
  }, null, 2));
  log(`results: ${values.json}`);
}
if (results.some((r) => !r.ok)) process.exitCode = 1;
