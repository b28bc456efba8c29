// Producing acknowledged orders (acks=all, idempotent) the way the api does — many concurrent
// requests each awaiting its own delivery — with the two APIs of @confluentinc/kafka-javascript:
//   - the lower-level Producer + delivery reports (src/kafka/delivery.ts, what the api uses)
//   - the KafkaJS-style producer.send() per message
//
//   npm run bench:produce -- [--orders 200000] [--concurrency 1000]
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import Kafka from '@confluentinc/kafka-javascript';
import { createAdmin, createProducer, disconnect } from '../src/kafka/clients.js';
import { DeliveryTracker } from '../src/kafka/delivery.js';
import { ensureTopics } from '../src/kafka/topics.js';
import { createRegistry, registryRest } from '../src/serde/registry.js';
import { useContract } from '../src/serde/contract.js';
import { OrderSerde, valueSubject } from '../src/serde/order-serde.js';
import { benchConfig } from './support.js';

const { values } = parseArgs({ options: { orders: { type: 'string', default: '200000' }, concurrency: { type: 'string', default: '1000' } } });
const total = Number(values.orders);
const concurrency = Number(values.concurrency);
const tag = `bench-${Date.now().toString(36)}`;
const config = benchConfig(tag, 6);
const admin = createAdmin({ brokers: config.kafka.brokers });
await ensureTopics(admin, [{ topic: config.kafka.ordersTopic, partitions: 6, replicationFactor: 1 }]);
admin.disconnect();
const serde = new OrderSerde(createRegistry(config.registry), valueSubject(config.kafka.ordersTopic));
await useContract(serde, registryRest(config.registry));
const value = () => serde.encode({ type: 'OrderCreated', event: { orderId: randomUUID(), userId: 'u1', productId: `P${Math.floor(Math.random() * 1000)}`, qty: 1, unitPrice: 1, totalPrice: 1, createdAt: Date.now() } });

/** `concurrency` workers, each sending one message and awaiting its acknowledgement, like requests. */
async function drive(send: (v: Buffer) => Promise<unknown>): Promise<number> {
  let next = 0;
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < total) await send(value());
  }));
  return total / ((performance.now() - startedAt) / 1000);
}

const producer = await createProducer({ brokers: config.kafka.brokers });
const tracker = new DeliveryTracker(producer);
const lowLevel = await drive((v) => tracker.send({ topic: config.kafka.ordersTopic, key: 'k', value: v }));
await disconnect(producer);

const kafka = new Kafka.KafkaJS.Kafka({ kafkaJS: { brokers: config.kafka.brokers.split(','), logLevel: Kafka.KafkaJS.logLevel.NOTHING } });
const jsProducer = kafka.producer({ kafkaJS: { idempotent: true, acks: -1 } });
await jsProducer.connect();
const promiseApi = await drive((v) => jsProducer.send({ topic: config.kafka.ordersTopic, messages: [{ key: 'k', value: v }] }));
await jsProducer.disconnect();

console.log(`
| acknowledged produce, ${concurrency} concurrent senders, ${total} messages | messages/s | lower-level ÷ this |
|---|---|---|
| Producer.produce + delivery reports (used by the api) | ${Math.round(lowLevel)} | 1.00× |
| KafkaJS-style producer.send() per message | ${Math.round(promiseApi)} | ${(lowLevel / promiseApi).toFixed(2)}× |`);
