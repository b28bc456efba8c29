// Consume + decode without the database (Kafka's limit for this process), with the two APIs of
// @confluentinc/kafka-javascript over the same backlog, in the same run:
//   - the lower-level KafkaConsumer, consume(n) in batches (what the processor uses)
//   - the KafkaJS-style promise API, eachMessage and eachBatch
//
//   npm run bench:consume -- [--orders 300000] [--partitions 6]
import { parseArgs } from 'node:util';
import Kafka from '@confluentinc/kafka-javascript';
import { consumeAndDecode, produceBacklog, type Backlog } from './support.js';

const { values } = parseArgs({ options: { orders: { type: 'string', default: '300000' }, partitions: { type: 'string', default: '6' } } });
const log = (line: string) => console.error(line);
const backlog = await produceBacklog({ orders: Number(values.orders), products: 1000, partitions: Number(values.partitions), duplicateRate: 0, stockCoverage: 1 }, log);
const { config, serde } = backlog;
const topic = config.kafka.ordersTopic;

async function lowLevel(b: Backlog): Promise<number> {
  const { seconds } = await consumeAndDecode(b, `${b.tag}-lowlevel`);
  return b.messages / seconds;
}

async function kafkaJs(b: Backlog, mode: 'eachMessage' | 'eachBatch'): Promise<number> {
  const kafka = new Kafka.KafkaJS.Kafka({ kafkaJS: { brokers: config.kafka.brokers.split(','), logLevel: Kafka.KafkaJS.logLevel.NOTHING } });
  const consumer = kafka.consumer({ kafkaJS: { groupId: `${b.tag}-${mode}`, fromBeginning: true }, 'js.consumer.max.batch.size': -1 });
  await consumer.connect();
  await consumer.subscribe({ topic });
  let seen = 0;
  let startedAt = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const count = () => {
    if (!startedAt) startedAt = performance.now();
    if (++seen === b.messages) finish();
  };
  if (mode === 'eachMessage') {
    await consumer.run({ eachMessage: async ({ message }) => { await serde.prepare([message.value!]); serde.decode(message.value!); count(); } });
  } else {
    await consumer.run({ eachBatch: async ({ batch }) => { await serde.prepare(batch.messages.map((m) => m.value!)); for (const m of batch.messages) { serde.decode(m.value!); count(); } } });
  }
  await finished;
  const seconds = (performance.now() - startedAt) / 1000;
  await consumer.disconnect();
  return b.messages / seconds;
}

const results: Array<[string, number]> = [];
results.push(['KafkaConsumer.consume(5000) (lower-level, used by the processor)', await lowLevel(backlog)]);
results.push(['KafkaJS-style consumer.run({ eachBatch })', await kafkaJs(backlog, 'eachBatch')]);
results.push(['KafkaJS-style consumer.run({ eachMessage })', await kafkaJs(backlog, 'eachMessage')]);
await backlog.pool.end();
const best = results[0]![1];
console.log(`
| consume + Avro decode, no database (${backlog.messages} messages, ${values.partitions} partitions) | messages/s | lower-level ÷ this |
|---|---|---|
${results.map(([name, rate]) => `| ${name} | ${Math.round(rate)} | ${(best / rate).toFixed(2)}× |`).join('\n')}`);
