// Consume + Avro decode without the database (Kafka's limit for one process) over the same
// backlog, each contender in its own process (its own CPU time and peak RSS), --runs rounds:
//   - native lower-level KafkaConsumer.consume(n), as the processor consumes
//   - the native library's KafkaJS-compatible API, eachBatch
//   - the real KafkaJS library (pure JavaScript), eachBatch — the peer; target: native ≥ 2×
//
//   npm run bench:consume -- [--orders 300000] [--partitions 6] [--runs 3]
import { parseArgs } from 'node:util';
import Kafka from '@confluentinc/kafka-javascript';
import { Kafka as KafkaJs, logLevel } from 'kafkajs';
import { benchConfig, consumeAndDecode, mb, produceBacklog, median } from './support.js';
import { runChild, stopwatch, type Measured } from './child.js';
import { createRegistry } from '../src/serde/registry.js';
import { OrderSerde, valueSubject } from '../src/serde/order-serde.js';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '300000' },
    partitions: { type: 'string', default: '6' },
    runs: { type: 'string', default: '3' },
    // child mode
    contender: { type: 'string' },
    topic: { type: 'string' },
    group: { type: 'string' },
    messages: { type: 'string' },
  },
});

const CONTENDERS = {
  native: 'native KafkaConsumer.consume(n) (lower-level, as the processor consumes)',
  'native-promise': 'native KafkaJS-compatible API, consumer.run({ eachBatch })',
  kafkajs: 'real KafkaJS 2.2 (pure JavaScript), consumer.run({ eachBatch }) — the peer',
} as const;
type Contender = keyof typeof CONTENDERS;

if (values.contender) {
  // ---- child: one contender, prints its Measured ----
  const topic = values.topic!;
  const total = Number(values.messages);
  const brokers = process.env.KAFKA_BROKERS!;
  const serde = new OrderSerde(createRegistry(benchConfig('bench-consume', 6).registry), valueSubject(topic));
  const watch = stopwatch();
  let seen = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const decodeAll = async (buffers: Buffer[]) => {
    if (!seen) watch.start();
    await serde.prepare(buffers);
    for (const b of buffers) serde.decode(b);
    seen += buffers.length;
    if (seen >= total) finish();
  };
  const contender = values.contender as Contender;
  let measured: Measured;
  if (contender === 'native') {
    const { seconds, messages, cpuSeconds, threads } = await consumeAndDecode({ brokers, topic, serde, total }, values.group!);
    measured = { seconds, messages, cpuSeconds, threads, rss: process.resourceUsage().maxRSS * 1024 };
  } else if (contender === 'native-promise') {
    const kafka = new Kafka.KafkaJS.Kafka({ kafkaJS: { brokers: brokers.split(','), logLevel: Kafka.KafkaJS.logLevel.NOTHING } });
    const consumer = kafka.consumer({ kafkaJS: { groupId: values.group!, fromBeginning: true }, 'js.consumer.max.batch.size': -1 });
    await consumer.connect();
    await consumer.subscribe({ topic });
    await consumer.run({ eachBatch: async ({ batch }) => decodeAll(batch.messages.map((m) => m.value!)) });
    await finished;
    measured = watch.stop(seen);
    await consumer.disconnect();
  } else {
    const kafka = new KafkaJs({ clientId: 'bench-kafkajs', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: values.group!, maxBytesPerPartition: 1_048_576 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachBatch: async ({ batch }) => decodeAll(batch.messages.map((m) => m.value!)) });
    await finished;
    measured = watch.stop(seen);
    await consumer.disconnect();
  }
  process.stdout.write(`${JSON.stringify(measured)}\n`);
  process.exit(0);
}

// ---- parent: one backlog, every contender in its own process, interleaved rounds ----
const log = (line: string) => console.error(line);
const runs = Number(values.runs);
const backlog = await produceBacklog({ orders: Number(values.orders), products: 1000, partitions: Number(values.partitions), duplicateRate: 0, stockCoverage: 1 }, log);
await backlog.pool.end();
const results = new Map<Contender, Measured[]>(Object.keys(CONTENDERS).map((c) => [c as Contender, []]));
for (let run = 1; run <= runs; run++) {
  for (const c of Object.keys(CONTENDERS) as Contender[]) {
    const m = await runChild('bench/consume.ts', ['--contender', c, '--topic', backlog.config.kafka.ordersTopic, '--group', `${backlog.tag}-${c}-${run}`, '--messages', String(backlog.messages)]);
    results.get(c)!.push(m);
    log(`  run ${run} ${c}: ${Math.round(m.messages / m.seconds)} msg/s, ${((m.cpuSeconds * 1e6) / m.messages).toFixed(2)} µs CPU/msg (${threadSplit(m)}), RSS ${mb(m.rss)}`);
  }
}
function threadSplit(m: Measured): string {
  return Object.entries(m.threads ?? {}).map(([n, s]) => [n, (s * 1e6) / m.messages] as const).filter(([, us]) => us >= 0.05).sort((a, b) => b[1] - a[1]).map(([n, us]) => `${n} ${us.toFixed(1)}`).join(', ');
}
const rate = (m: Measured) => m.messages / m.seconds;
const cpu = (m: Measured) => (m.cpuSeconds * 1e6) / m.messages;
const spread = (xs: number[], d = 0) => `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`;
const native = results.get('native')!;
const perRound = (c: Contender, f: (a: Measured, b: Measured) => number) => results.get(c)!.map((m, i) => f(native[i]!, m));
console.log(`
Consume + Avro decode, no database: ${backlog.messages} messages, ${values.partitions} partitions, ${runs} round(s), median (min–max); each contender in its own process.

| contender | messages/s | native ÷ this (msg/s) | CPU µs per message | this ÷ native (CPU) | per thread, µs per message (last round) | peak RSS |
|---|---|---|---|---|---|---|
${(Object.keys(CONTENDERS) as Contender[]).map((c) => {
  const ms = results.get(c)!;
  return `| ${CONTENDERS[c]} | ${spread(ms.map(rate))} | ${spread(perRound(c, (a, b) => rate(a) / rate(b)), 2)}× | ${spread(ms.map(cpu), 2)} | ${spread(perRound(c, (a, b) => cpu(b) / cpu(a)), 2)}× | ${threadSplit(ms[ms.length - 1]!)} | ${spread(ms.map((m) => m.rss / 1048576))} MB |`;
}).join('\n')}`);
