// bench:drain contender "Kafka Connect JDBC sink (Debezium, upsert)": the study notes' own
// solution, deploy/connect/orders-jdbc-sink.json on the local worker (CONNECT=1 npm run stack:up),
// draining the same backlog into its own table. It writes one row per order and nothing else: no
// verdict, no stock, no cancellation — the figure is what mirroring the topic costs, not a
// processor. Like the processor child, the worker is a fresh JVM each round (stopped and started
// here; left running afterwards if it was running before), so its CPU (user + system of the JVM,
// from /proc, first commit to last) and peak RSS (VmHWM) are this round's alone.
//
// The settings a user would tune, from the environment:
//   BENCH_CONNECT_BATCH_SIZE        batch.size (rows per JDBC flush; default the file's, 5000)
//   BENCH_CONNECT_MAX_POLL_RECORDS  consumer.override.max.poll.records (default = the batch size)
//   BENCH_CONNECT_TASKS             tasks.max (default the file's, 1)
import type { IAdminClient } from '../../src/kafka/clients.js';
import { committedTotal, windowOpens, cpuJiffies, cpuSeconds, peakRss, type Backlog } from '../support.js';
import { awaitRunning, connectorStatus, deleteConnector, deployedConnector, putConnector, startWorker, stopWorker, workerPid, workerRunning } from '../../test/support/connect.js';
import { eventually } from '../../test/support/eventually.js';

const file = deployedConnector('orders-jdbc-sink.json');
const batchSize = process.env.BENCH_CONNECT_BATCH_SIZE ?? file.config['batch.size']!;
export const CONNECT_SETTINGS = {
  'batch.size': batchSize,
  'consumer.override.max.poll.records': process.env.BENCH_CONNECT_MAX_POLL_RECORDS ?? batchSize,
  'tasks.max': process.env.BENCH_CONNECT_TASKS ?? file.config['tasks.max']!,
};
export const CONNECT_LABEL = `Kafka Connect JDBC sink (Debezium, upsert), ${Object.entries(CONNECT_SETTINGS).map(([k, v]) => `${k}=${v}`).join(', ')} — writes rows only (no verdicts, no stock)`;

export interface ConnectResult {
  contender: 'connect';
  run: number;
  messages: number;
  seconds: number;
  perSecond: number;
  cpuSeconds: number;
  cpuPerOrderUs: number;
  rss: number;
  machineCpu: number;
  check: string;
  ok: boolean;
}

const wasRunning = workerRunning();

export async function drainWithConnect(run: number, b: Backlog, admin: IAdminClient): Promise<ConnectResult> {
  if (workerRunning()) await stopWorker();
  await startWorker();
  const pid = workerPid();
  const name = `${b.tag}-connect-${run}`;
  const table = `${b.tag}_connect${run}`.replace(/[^a-z0-9_]/g, '_');
  const { config } = deployedConnector('orders-jdbc-sink.json', {
    ...CONNECT_SETTINGS,
    topics: b.config.kafka.ordersTopic,
    'collection.name.format': table,
    'connection.pool.max_size': String(Math.max(2, Number(CONNECT_SETTINGS['tasks.max']))),
    'errors.deadletterqueue.topic.name': `${name}.dlq`,
    'errors.deadletterqueue.topic.replication.factor': String(b.config.kafka.replicationFactor),
  });
  // A sink's consumer group is connect-<connector name>.
  const groupId = `connect-${name}`;
  let before = { at: performance.now(), machine: cpuJiffies(), cpu: cpuSeconds(pid) };
  await putConnector(name, config);
  await awaitRunning(name);
  let first: typeof before | undefined;
  let done = 0;
  let lastAt = 0;
  const timeoutAt = performance.now() + Math.max(600_000, b.messages);
  // Offsets are committed every offset.flush.interval.ms (1 s on the stack's worker): the window
  // opens at the last sample before the task's group is Stable or the first commit, as for the
  // other contenders (groupConsuming).
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (performance.now() > timeoutAt) throw new Error(`connect did not finish: ${done} of ${b.messages} committed`);
    const now = await committedTotal(admin, groupId).catch(() => done);
    if (!first) {
      if (await windowOpens(admin, groupId, now)) first = before;
      else before = { at: performance.now(), machine: cpuJiffies(), cpu: cpuSeconds(pid) };
    }
    if (now > done) lastAt = performance.now();
    done = now;
    if (done >= b.messages) break;
  }
  const seconds = (lastAt - first!.at) / 1000;
  const cpu = cpuSeconds(pid) - first!.cpu;
  const machine = cpuJiffies();
  const rss = peakRss(pid);
  await deleteConnector(name);
  // Stopped too soon after the DELETE, the worker came back with the connector still configured,
  // and its idle task ran beside the next contenders.
  await eventually(`connector ${name} deleted`, () => connectorStatus(name).catch(() => undefined), (s) => s === undefined, 60_000, 250);
  await stopWorker();
  const { rows: [counts] } = await b.pool.query<{ rows: number; orders: number }>(`SELECT count(*)::int AS rows, count(DISTINCT order_id)::int AS orders FROM ${table}`);
  await b.pool.query(`DROP TABLE ${table}`);
  const ok = counts!.rows === b.uniqueOrders && counts!.orders === b.uniqueOrders;
  return {
    contender: 'connect', run, messages: b.messages, seconds, perSecond: b.messages / seconds, cpuSeconds: +cpu.toFixed(2),
    cpuPerOrderUs: +((cpu * 1e6) / b.messages).toFixed(2), rss,
    machineCpu: +((100 * (machine.busy - first!.machine.busy)) / (machine.total - first!.machine.total)).toFixed(0),
    check: ok ? `${counts!.rows} rows, one per order (upsert) ✓` : `MISMATCH: ${counts!.rows} rows, ${counts!.orders} orders of ${b.uniqueOrders}`,
    ok,
  };
}

/** After the last round: the worker as it was found (running or not). */
export async function restoreWorker(): Promise<void> {
  if (wasRunning && !workerRunning()) await startWorker();
}
