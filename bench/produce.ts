// Producing acknowledged orders (acks=all, idempotent) the way the api does — many concurrent
// requests each awaiting its own delivery — each contender in its own process (its own CPU time
// and peak RSS), --runs rounds:
//   - native lower-level Producer + delivery reports (src/kafka/delivery.ts, what the api uses)
//   - the native library's KafkaJS-compatible API, producer.send() per message
//   - the real KafkaJS library (pure JavaScript), idempotent, producer.send() per message — the
//     peer; target: native ≥ 2×
//
//   npm run bench:produce -- [--orders 200000] [--peer-orders orders/10] [--concurrency 1000] [--runs 3]
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import Kafka from '@confluentinc/kafka-javascript';
import { Kafka as KafkaJs, logLevel } from 'kafkajs';
import { createAdmin, createProducer, disconnect } from '../src/kafka/clients.js';
import { DeliveryTracker } from '../src/kafka/delivery.js';
import { ensureTopics } from '../src/kafka/topics.js';
import { createRegistry, registryRest } from '../src/serde/registry.js';
import { useContract } from '../src/serde/contract.js';
import { OrderSerde, valueSubject } from '../src/serde/order-serde.js';
import { benchConfig, mb, median, registerOrderContract } from './support.js';
import { runChild, stopwatch, type Measured } from './child.js';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '200000' },
    concurrency: { type: 'string', default: '1000' },
    // KafkaJS's idempotent producer keeps one request in flight, so it gets fewer messages to send
    // (rates are compared, not times): 200,000 would take minutes a round.
    'peer-orders': { type: 'string' },
    runs: { type: 'string', default: '3' },
    // child mode
    contender: { type: 'string' },
    topic: { type: 'string' },
  },
});
const total = Number(values.orders);
const concurrency = Number(values.concurrency);

const CONTENDERS = {
  native: 'native Producer.produce + delivery reports (lower-level, as the api produces)',
  'native-promise': 'native KafkaJS-compatible API, producer.send() per message',
  kafkajs: 'real KafkaJS 2.2 (pure JavaScript), idempotent producer.send() per message — the peer',
} as const;
type Contender = keyof typeof CONTENDERS;

if (values.contender) {
  // ---- child: one contender, prints its Measured ----
  const topic = values.topic!;
  const brokers = process.env.KAFKA_BROKERS!;
  const { registry } = benchConfig('bench-produce', 6);
  const serde = new OrderSerde(createRegistry(registry), valueSubject(topic));
  await useContract(serde, registryRest(registry)); // the subject exists already: this finds its id
  const value = () => serde.encode({ type: 'OrderCreated', event: { orderId: randomUUID(), userId: 'u1', productId: `P${Math.floor(Math.random() * 1000)}`, qty: 1, unitPrice: 1, totalPrice: 1, createdAt: Date.now() } });
  /** `concurrency` workers, each sending one message and awaiting its acknowledgement, like requests. */
  const drive = async (send: (v: Buffer) => Promise<unknown>): Promise<Measured> => {
    let next = 0;
    const watch = stopwatch();
    watch.start();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next++ < total) await send(value());
    }));
    return watch.stop(total);
  };
  let measured: Measured;
  const contender = values.contender as Contender;
  if (contender === 'native') {
    const producer = await createProducer({ brokers });
    const tracker = new DeliveryTracker(producer);
    measured = await drive((v) => tracker.send({ topic, key: 'k', value: v }));
    await disconnect(producer);
  } else if (contender === 'native-promise') {
    const kafka = new Kafka.KafkaJS.Kafka({ kafkaJS: { brokers: brokers.split(','), logLevel: Kafka.KafkaJS.logLevel.NOTHING } });
    const producer = kafka.producer({ kafkaJS: { idempotent: true, acks: -1 } });
    await producer.connect();
    measured = await drive((v) => producer.send({ topic, messages: [{ key: 'k', value: v }] }));
    await producer.disconnect();
  } else {
    const kafka = new KafkaJs({ clientId: 'bench-kafkajs', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
    // KafkaJS's idempotent producer keeps one request in flight per broker, as it requires.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    measured = await drive((v) => producer.send({ topic, acks: -1, messages: [{ key: 'k', value: v }] }));
    await producer.disconnect();
  }
  process.stdout.write(`${JSON.stringify(measured)}\n`);
  process.exit(0);
}

// ---- parent: one topic, every contender in its own process, interleaved rounds ----
const log = (line: string) => console.error(line);
const runs = Number(values.runs);
const tag = `bench-${Date.now().toString(36)}`;
const config = benchConfig(tag, 6);
const admin = createAdmin({ brokers: config.kafka.brokers });
await ensureTopics(admin, [{ topic: config.kafka.ordersTopic, partitions: 6, replicationFactor: 1 }]);
admin.disconnect();
await registerOrderContract(config);

const results = new Map<Contender, Measured[]>(Object.keys(CONTENDERS).map((c) => [c as Contender, []]));
for (let run = 1; run <= runs; run++) {
  for (const c of Object.keys(CONTENDERS) as Contender[]) {
    const count = c === 'kafkajs' ? Number(values['peer-orders'] ?? Math.ceil(total / 10)) : total;
    const m = await runChild('bench/produce.ts', ['--contender', c, '--topic', config.kafka.ordersTopic, '--orders', String(count), '--concurrency', String(concurrency)]);
    results.get(c)!.push(m);
    log(`  run ${run} ${c}: ${Math.round(m.messages / m.seconds)} msg/s, ${((m.cpuSeconds * 1e6) / m.messages).toFixed(2)} µs CPU/msg, RSS ${mb(m.rss)}`);
  }
}
const rate = (m: Measured) => m.messages / m.seconds;
const cpu = (m: Measured) => (m.cpuSeconds * 1e6) / m.messages;
const spread = (xs: number[], d = 0) => `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`;
const native = results.get('native')!;
const perRound = (c: Contender, f: (a: Measured, b: Measured) => number) => results.get(c)!.map((m, i) => f(native[i]!, m));
console.log(`
Acknowledged produce (acks=all, idempotent), ${concurrency} concurrent senders, ${total} messages (KafkaJS: ${values['peer-orders'] ?? Math.ceil(total / 10)}), ${runs} round(s), median (min–max); each contender in its own process.

| contender | messages/s | native ÷ this (msg/s) | CPU µs per message | this ÷ native (CPU) | peak RSS |
|---|---|---|---|---|---|
${(Object.keys(CONTENDERS) as Contender[]).map((c) => {
  const ms = results.get(c)!;
  return `| ${CONTENDERS[c]} | ${spread(ms.map(rate))} | ${spread(perRound(c, (a, b) => rate(a) / rate(b)), 2)}× | ${spread(ms.map(cpu), 2)} | ${spread(perRound(c, (a, b) => cpu(b) / cpu(a)), 2)}× | ${spread(ms.map((m) => m.rss / 1048576))} MB |`;
}).join('\n')}`);
