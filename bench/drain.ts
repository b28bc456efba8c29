// Processor drain: a pre-produced backlog applied end to end by `order-stream processor` (a child
// process, as deployed). Prints orders/s and peak RSS.
//
//   npm run bench:drain -- [--orders 1000000] [--products 1000] [--partitions 6]
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { createAdmin } from '../src/kafka/clients.js';
import { committedTotal, cpuJiffies, cpuSeconds, mb, peakRss, produceBacklog } from './support.js';

const { values } = parseArgs({ options: { orders: { type: 'string', default: '1000000' }, products: { type: 'string', default: '1000' }, partitions: { type: 'string', default: '6' } } });
const log = (line: string) => console.error(line);

const backlog = await produceBacklog(
  { orders: Number(values.orders), products: Number(values.products), partitions: Number(values.partitions), duplicateRate: 0.01, stockCoverage: 0.9 },
  log,
);
const { config } = backlog;
const env = {
  ...process.env,
  NODE_ENV: 'production',
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
  PORT: '0',
  HOST: '127.0.0.1',
  ORDERS_TOPIC: config.kafka.ordersTopic,
  ORDERS_DLQ_TOPIC: config.kafka.dlqTopic,
  PROCESSOR_GROUP_ID: config.kafka.groupId,
};
// e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=prof" to profile the processor
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const child = spawn(process.execPath, [...nodeArgs, 'dist/main.js', 'processor'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
child.once('exit', (code) => {
  if (code !== 0 && code !== null) {
    console.error(`the processor exited with ${code}`);
    process.exit(1);
  }
});
const spawnedAt = Date.now();
const admin = createAdmin({ brokers: config.kafka.brokers });
let firstAt = 0;
let peak = 0;
let cpuAtFirst = cpuJiffies();
let childCpuAtFirst = 0;
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, 200));
  const done = await committedTotal(admin, config.kafka.groupId).catch(() => 0);
  peak = Math.max(peak, peakRss(child.pid!));
  if (done > 0 && !firstAt) {
    firstAt = Date.now();
    cpuAtFirst = cpuJiffies();
    childCpuAtFirst = cpuSeconds(child.pid!);
  }
  if (done >= backlog.messages) break;
}
const finishedAt = Date.now();
const cpuAtEnd = cpuJiffies();
const childCpu = cpuSeconds(child.pid!) - childCpuAtFirst;
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
admin.disconnect();

const { rows } = await backlog.pool.query(
  `SELECT count(*)::int AS orders, count(*) FILTER (WHERE status = 'ACCEPTED')::int AS accepted,
          count(*) FILTER (WHERE reason = 'OUT_OF_STOCK')::int AS out_of_stock
   FROM orders WHERE product_id = ANY($1)`,
  [backlog.products],
);
const counts = rows[0] as { orders: number; accepted: number; out_of_stock: number };
await backlog.pool.end();
const seconds = (finishedAt - firstAt) / 1000;
console.log(`
| processor drain | value |
|---|---|
| messages (orders + duplicates) | ${backlog.messages} |
| orders stored / accepted / out of stock | ${counts.orders} / ${counts.accepted} / ${counts.out_of_stock} |
| drain time (first commit → last commit) | ${seconds.toFixed(1)} s |
| **messages applied per second** | **${Math.round(backlog.messages / seconds)}** |
| wall time incl. start-up and group join | ${((finishedAt - spawnedAt) / 1000).toFixed(1)} s |
| peak RSS of the processor | ${mb(peak)} |
| machine CPU busy while draining (all cores) | ${((100 * (cpuAtEnd.busy - cpuAtFirst.busy)) / (cpuAtEnd.total - cpuAtFirst.total)).toFixed(0)} % |
| processor process CPU while draining | ${((100 * childCpu) / seconds).toFixed(0)} % of one core |`);
if (counts.orders !== backlog.uniqueOrders) {
  console.error(`MISMATCH: ${counts.orders} orders stored, ${backlog.uniqueOrders} produced`);
  process.exitCode = 1;
}
