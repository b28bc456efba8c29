// Shared pieces of the benchmarks: a private topic with a produced backlog, the catalog for it,
// group progress read from Kafka (no load on the database being measured), peak RSS of a child.
import './stack.js';
import Kafka from '@confluentinc/kafka-javascript';
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { loadavg } from 'node:os';
import { loadConfig, SETTINGS, type Config } from '../src/config/index.js';

const DEFAULT_BATCH_MAX_BYTES = Number(SETTINGS.find((s) => s.name === 'PROCESSOR_BATCH_MAX_BYTES')!.default);
import { createAdmin, createConsumer, createProducer, disconnect, processorConsumerSettings, CONSUME_BATCH, type IAdminClient, type Message } from '../src/kafka/clients.js';
import { DeliveryTracker } from '../src/kafka/delivery.js';
import { ensureTopics } from '../src/kafka/topics.js';
import { createRegistry, registryRest } from '../src/serde/registry.js';
import { useContract } from '../src/serde/contract.js';
import { OrderSerde, valueSubject } from '../src/serde/order-serde.js';
import { createPool, type Pool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import type { OrderCreated, OrderEvent } from '../src/domain/order.js';

export interface Backlog {
  config: Config;
  tag: string;
  pool: Pool;
  serde: OrderSerde;
  messages: number;
  uniqueOrders: number;
  products: string[];
  /** Stock each product starts with. */
  stock: number;
  /** Every distinct order produced, in production order (kept only when asked for). */
  orders: OrderCreated[];
  /** Events by type (duplicates included). */
  counts: { created: number; cancelled: number; restocked: number };
}

export interface BacklogOptions {
  orders: number;
  /** How the producer compresses the backlog: lz4 as the api deploys it (default), or none. */
  compression?: 'lz4' | 'none';
  /**
   * The event ids: v4 (random, default) as an Idempotency-Key client's name-based ids are, or v7
   * (time-ordered) as the api makes them for a POST without a key (src/api/orders.ts).
   */
  ids?: 'v4' | 'v7';
  products: number;
  partitions: number;
  /** Share of events sent a second time (retries, redelivery). */
  duplicateRate: number;
  /** Stock per product as a share of the expected demand: below 1, some orders are OUT_OF_STOCK. */
  stockCoverage: number;
  /** Keep the produced orders in memory (for the COPY baseline). */
  keepOrders?: boolean;
  /** Load the catalog into the default schema (the single-contender benchmarks). */
  loadCatalog?: boolean;
  /**
   * Issue 12's mixed backlog: of `orders` events, this share are cancellations of recent orders
   * (same product key, so behind their creation) and the same share restocks; the rest creations.
   */
  mixShare?: number;
}

/**
 * The event ids a benchmark's `--ids` names: v4 (random, as an Idempotency-Key client's name-based
 * ids are) or v7 (time-ordered, as the api makes them without a key, src/api/orders.ts).
 */
export function idGenerator(ids = 'v4'): () => string {
  if (ids === 'v4') return randomUUID;
  if (ids === 'v7') return () => uuidv7();
  throw new Error(`--ids: v4 or v7 (got ${ids})`);
}

export function benchConfig(tag: string, partitions: number): Config {
  return loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    ...process.env,
    ORDERS_TOPIC: `${tag}-orders`,
    ORDERS_DLQ_TOPIC: `${tag}-orders.dlq`,
    ORDERS_TOPIC_PARTITIONS: String(partitions),
    PROCESSOR_GROUP_ID: `${tag}-group`,
  });
}

/**
 * The deploy step's half that concerns Kafka, as `order-stream migrate` runs it: the order schema
 * registered (or found) under the topic's subject. The benchmarks' roles run with
 * NODE_ENV=production, where they only look it up.
 */
export async function registerOrderContract(config: Config): Promise<OrderSerde> {
  const serde = new OrderSerde(createRegistry(config.registry), valueSubject(config.kafka.ordersTopic));
  await useContract(serde, registryRest(config.registry));
  return serde;
}

export async function produceBacklog(options: BacklogOptions, log: (line: string) => void): Promise<Backlog> {
  const tag = `bench-${Date.now().toString(36)}`;
  const config = benchConfig(tag, options.partitions);
  const admin = createAdmin({ brokers: config.kafka.brokers });
  await ensureTopics(admin, [
    { topic: config.kafka.ordersTopic, partitions: options.partitions, replicationFactor: 1 },
    { topic: config.kafka.dlqTopic, partitions: options.partitions, replicationFactor: 1 },
  ]);
  admin.disconnect();
  const pool = createPool(config.database.url, 4);
  await migrate(pool);
  const serde = await registerOrderContract(config);

  const products = Array.from({ length: options.products }, (_, i) => `${tag}-P${String(i).padStart(5, '0')}`);
  const meanQty = 3;
  const mix = options.mixShare ?? 0;
  const creates = Math.round(options.orders * (1 - 2 * mix));
  const stock = Math.round((creates / options.products) * meanQty * options.stockCoverage);
  if (options.loadCatalog !== false) await loadCatalog(pool, products, stock);
  const kept: OrderCreated[] = [];
  const newId = idGenerator(options.ids);
  const counts = { created: 0, cancelled: 0, restocked: 0 };

  const producer = await createProducer({ brokers: config.kafka.brokers, clientId: 'bench-backlog' }, { 'linger.ms': 20, 'batch.size': 1_000_000,
    // lz4, as the api produces (src/kafka/clients.ts); the KafkaJS peer reads it with kafkajs-lz4.
    'compression.type': options.compression ?? 'lz4' });
  const delivery = new DeliveryTracker(producer);
  const startedAt = Date.now();
  let sent = 0;
  let uniqueOrders = 0;
  let window: Promise<unknown>[] = [];
  const recent: OrderEvent[] = [];
  const recentOrders: OrderCreated[] = [];
  const send = (e: OrderEvent) => {
    window.push(delivery.send({ topic: config.kafka.ordersTopic, key: e.event.productId, value: serde.encode(e) }));
    sent++;
    counts[e.type === 'OrderCreated' ? 'created' : e.type === 'OrderCancelled' ? 'cancelled' : 'restocked']++;
  };
  for (let i = 0; i < options.orders; i++) {
    const productId = products[Math.floor(Math.random() * products.length)]!;
    const r = Math.random();
    let e: OrderEvent;
    if (r < mix && recentOrders.length) {
      const o = recentOrders[Math.floor(Math.random() * recentOrders.length)]!;
      e = { type: 'OrderCancelled', event: { cancellationId: newId(), orderId: o.orderId, userId: o.userId, productId: o.productId, cancelledAt: Date.now() } };
    } else if (r < 2 * mix) {
      e = { type: 'StockAdded', event: { restockId: newId(), productId, add: 1 + Math.floor(Math.random() * 2 * meanQty * 5), addedAt: Date.now() } };
    } else {
      const qty = 1 + Math.floor(Math.random() * (2 * meanQty - 1));
      const order: OrderCreated = { orderId: newId(), userId: `${tag}-u${i % 5000}`, productId, qty, unitPrice: 100, totalPrice: qty * 100, createdAt: Date.now() };
      e = { type: 'OrderCreated', event: order };
      uniqueOrders++;
      recentOrders.push(order);
      if (options.keepOrders) kept.push(order);
    }
    send(e);
    recent.push(e);
    if (Math.random() < options.duplicateRate) send(recent[Math.floor(Math.random() * recent.length)]!);
    if (recent.length > 1000) recent.splice(0, 500);
    if (recentOrders.length > 1000) recentOrders.splice(0, 500);
    if (window.length >= 20_000) {
      await Promise.all(window);
      window = [];
      if (i % 200_000 < 20_000) log(`  produced ${i + 1} events`);
    }
  }
  await Promise.all(window);
  await disconnect(producer);
  log(`  backlog: ${sent} messages (${counts.created} creations incl. duplicates, ${counts.cancelled} cancellations, ${counts.restocked} restocks) in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  return { config, tag, pool, serde, messages: sent, uniqueOrders, products, stock, orders: kept, counts };
}

export async function loadCatalog(pool: Pool, products: string[], stock: number): Promise<void> {
  await pool.query(`INSERT INTO catalog (product_id, product_name, unit_price, stock) SELECT id, id, 100, $2 FROM unnest($1::text[]) AS id`, [products, stock]);
}

/**
 * A fresh copy of the schema (orders, catalog) in its own PostgreSQL schema, so each contender
 * of a benchmark starts from the same empty tables. Returns a DATABASE_URL that selects it.
 */
export async function freshSchema(backlog: Backlog, name: string): Promise<{ url: string; pool: Pool }> {
  const schema = `${backlog.tag}_${name}`.replace(/[^a-z0-9_]/g, '_');
  await backlog.pool.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(backlog.config.database.url);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const pool = createPool(url.toString(), 4);
  await migrate(pool, { lockKey: 0x62656e63 });
  await loadCatalog(pool, backlog.products, backlog.stock);
  return { url: url.toString(), pool };
}

/** Messages of the topic the group has committed, summed over partitions. */
export function committedTotal(admin: IAdminClient, groupId: string): Promise<number> {
  return new Promise((resolve, reject) =>
    admin.listConsumerGroupOffsets([{ groupId }], { timeout: 5000 }, (err, results) => {
      if (err) return reject(err);
      resolve((results[0]?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0));
    }),
  );
}

/**
 * True once the group is Stable with a member: its members hold their partitions and fetch from
 * here on. A contender's window opens at this moment (or at its first commit, if that is seen
 * first) rather than at its first commit alone: KafkaJS commits after a partition's whole fetch
 * (≈ 40,000 lz4-compressed orders per partition) and Connect every flush interval, so a window
 * opened at the first commit missed up to ≈ 240,000 orders of the backlog and overstated their rate.
 */
function groupConsuming(admin: IAdminClient, groupId: string): Promise<boolean> {
  return new Promise((resolve, reject) =>
    admin.describeGroups([groupId], { timeout: 5000 }, (err, result) => {
      if (err) return reject(err);
      const group = result.groups[0];
      resolve(group?.state === Kafka.ConsumerGroupStates.STABLE && group.members.length > 0);
    }),
  );
}

/** Whether a contender's measuring window opens now: it has committed, or its group is consuming. */
export async function windowOpens(admin: IAdminClient, groupId: string, committed: number): Promise<boolean> {
  return committed > 0 || (await groupConsuming(admin, groupId).catch(() => false));
}

/** Peak resident set size of a live process, in bytes (VmHWM). */
export function peakRss(pid: number): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
  return match ? Number(match[1]) * 1024 : NaN;
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/**
 * Figures only hold on a quiet machine: prints the load average and how busy the cores were over
 * the last two seconds (nothing of ours running yet), and warns when something else uses them.
 */
export async function quietCheck(log: (line: string) => void, what: string): Promise<void> {
  const before = cpuJiffies();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const after = cpuJiffies();
  const busy = Math.round((100 * (after.busy - before.busy)) / Math.max(1, after.total - before.total));
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  log(`  ${what}: load average ${load}, cores ${busy} % busy before it${busy > 15 ? ' — WARNING: something else is using the cores, figures will not hold' : ''}`);
}

/** Busy and total jiffies of all CPUs, from /proc/stat. */
export function cpuJiffies(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * CPU seconds (user + system) of each thread of a live process, by thread: the main thread as
 * `main`, the others by name (V8 workers, libuv, librdkafka's `rdk:*`). Threads that ended are
 * no longer listed, so compare totals with cpuSeconds().
 */
export function threadCpu(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === pid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '');
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // the thread ended meanwhile
    }
  }
  return byName;
}

/** CPU seconds (user + system) a live process has used. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Consumes and decodes a whole topic with the native client as the processor does (same consumer
 * settings, consume(n)), no database: Kafka's limit on this machine. CPU is the whole process's.
 */
export async function consumeAndDecode(
  source: { brokers: string; topic: string; serde: OrderSerde; total: number },
  groupId: string,
): Promise<{ seconds: number; messages: number; cpuSeconds: number; threads: Record<string, number> }> {
  const consumer = await createConsumer({ brokers: source.brokers, groupId }, processorConsumerSettings(DEFAULT_BATCH_MAX_BYTES));
  consumer.setDefaultConsumeTimeout(20);
  consumer.subscribe([source.topic]);
  let seen = 0;
  let startedAt = 0;
  let cpuAt = process.cpuUsage();
  let threadsAt = new Map<string, number>();
  while (seen < source.total) {
    const messages = await new Promise<Message[]>((resolve, reject) => consumer.consume(CONSUME_BATCH, (err, m) => (err ? reject(err) : resolve(m))));
    if (messages.length && !startedAt) {
      startedAt = performance.now();
      cpuAt = process.cpuUsage();
      threadsAt = threadCpu(process.pid);
    }
    await source.serde.prepare(messages.map((m) => m.value!));
    for (const m of messages) source.serde.decode(m.value!);
    seen += messages.length;
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuAt);
  const threads: Record<string, number> = {};
  for (const [name, s] of threadCpu(process.pid)) threads[name] = +(s - (threadsAt.get(name) ?? 0)).toFixed(2);
  await disconnect(consumer);
  return { seconds, messages: seen, cpuSeconds: (cpu.user + cpu.system) / 1e6, threads };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * "NAME=value NAME=value" (a value may hold '=') as environment entries: how BENCH_BASELINE_ENV
 * and BENCH_VARIANT_ENV give a contender's settings.
 */
export const envList = (list = ''): Record<string, string> =>
  Object.fromEntries(list.split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string]));

/**
 * The processor container's memory limit in the base manifests (deploy/k8s/base), in bytes: what
 * the processor gets as deployed. Node.js sizes V8's heap from the memory it is constrained to, so
 * the same build on a 24 GiB host without a limit runs a far larger young generation (128 MB
 * against 32 MB in the 1 GiB container, Node.js 24) and a larger RSS than it does in its container.
 */
export function deployedProcessorMemory(): number {
  const limit = processorContainer()?.resources?.limits?.memory;
  const match = /^(\d+)(Mi|Gi)$/.exec(limit ?? '');
  if (!match) throw new Error(`deploy/k8s/base/processor-deployment.yaml: processor memory limit "${limit}" is not <n>Mi or <n>Gi`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1 << 30 : 1 << 20);
}
/**
 * The runtime's own settings the image sets for both roles (deploy/Dockerfile, its last stage's
 * `ENV` lines: glibc's MALLOC_* and NODE_OPTIONS), so the benchmarks run their children as the
 * image runs them. The application's settings are not taken from there.
 */
export function imageRuntimeEnv(): Record<string, string> {
  const text = readFileSync('deploy/Dockerfile', 'utf8');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const [, list] of runtime.matchAll(/^ENV\s+(.+)$/gm)) {
    for (const [, name, value] of list!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) {
      if (RUNTIME_SETTING.test(name!)) env[name!] = value!.replace(/^"|"$/g, '');
    }
  }
  return env;
}
/**
 * The runtime settings the processor runs with as deployed: the image's (imageRuntimeEnv), then
 * the processor container's own MALLOC_* and NODE_OPTIONS in deploy/k8s/base.
 */
export function processorRuntimeEnv(): Record<string, string> {
  const own = (processorContainer()?.env ?? []).filter((e) => RUNTIME_SETTING.test(e.name) && typeof e.value === 'string');
  return { ...imageRuntimeEnv(), ...Object.fromEntries(own.map((e) => [e.name, e.value!])) };
}
/** The runtime's own settings, as opposed to the application's: glibc's allocator, Node.js's flags. */
const RUNTIME_SETTING = /^MALLOC_|^NODE_OPTIONS$/;
/** The processor container of the base manifests (deploy/k8s/base/processor-deployment.yaml). */
function processorContainer() {
  const docs = parseAllDocuments(readFileSync('deploy/k8s/base/processor-deployment.yaml', 'utf8')).map((d) => d.toJS() as Manifest);
  return docs.flatMap((d) => d?.spec?.template?.spec?.containers ?? []).find((c) => c.name === 'processor');
}
type Manifest = { spec?: { template?: { spec?: { containers?: Array<{ name: string; env?: Array<{ name: string; value?: string }>; resources?: { limits?: { memory?: string } } }> } } } } | null;

/**
 * A memory cgroup limited to `bytes` (cgroup v2, or v1's memory controller), created once per
 * name: the `cgroup.procs` file a process writes its pid to before it execs node, so the limit holds
 * from its first allocation (see inCgroup). Undefined where cgroups cannot be written (not root).
 */
export function memoryCgroup(name: string, bytes: number): string | undefined {
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const dir = v2 ? `/sys/fs/cgroup/${name}` : `/sys/fs/cgroup/memory/${name}`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/${v2 ? 'memory.max' : 'memory.limit_in_bytes'}`, String(bytes));
    return `${dir}/cgroup.procs`;
  } catch {
    return undefined;
  }
}

/** Command and arguments that run `command args…` inside the cgroup whose cgroup.procs is given. */
export function inCgroup(procs: string | undefined, command: string, args: string[]): [string, string[]] {
  if (!procs) return [command, args];
  // The shell moves itself into the cgroup, then execs: same pid, limit in place before node starts.
  return ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', procs, command, ...args]];
}
