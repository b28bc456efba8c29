// Benchmark peer: the same planner and SQL (src/processor/apply.ts) driven by KafkaJS, the pure
// JavaScript client, with eachBatch — what this project would be on the most common Node client.
// Same configuration contract as `order-stream processor`; used only by bench/drain.ts.
import kafkajs from 'kafkajs';
import lz4 from 'kafkajs-lz4';
const { Kafka, logLevel } = kafkajs;
import { loadConfig } from '../../src/config/index.js';
import { createPool } from '../../src/db/pool.js';
import { createRegistry } from '../../src/serde/registry.js';
import { OrderSerde, valueSubject } from '../../src/serde/order-serde.js';
import { invalidEvent } from '../../src/domain/order.js';
import { applyBatch } from '../../src/processor/apply.js';
import type { BatchEvent } from '../../src/processor/plan.js';

// KafkaJS has no built-in LZ4; this is the codec its documentation points to (JavaScript-thread
// decompression, where librdkafka decompresses on its own threads).
// CommonJS: the class itself at run time, though its types declare it as the default export.
const LZ4Codec = ((lz4 as unknown as { default?: typeof lz4.default }).default ?? lz4) as typeof lz4.default;
kafkajs.CompressionCodecs[kafkajs.CompressionTypes.LZ4] = new LZ4Codec().codec;
const config = loadConfig();
const pool = createPool(config.database.url, config.database.poolMax);
const serde = new OrderSerde(createRegistry(config.registry), valueSubject(config.kafka.ordersTopic));
const kafka = new Kafka({ clientId: 'bench-kafkajs-peer', brokers: config.kafka.brokers.split(','), logLevel: process.env.PEER_LOG ? logLevel.INFO : logLevel.NOTHING });
const consumer = kafka.consumer({ groupId: config.kafka.groupId, maxBytesPerPartition: 1_048_576 });
consumer.on(consumer.events.CRASH, (event) => {
  if (!event.payload.restart) {
    console.error(`kafkajs peer crashed: ${event.payload.error.message}`);
    process.exit(1);
  }
});
await consumer.connect();
await consumer.subscribe({ topic: config.kafka.ordersTopic, fromBeginning: true });
const recentByPartition = new Map<number, Set<string>>();
await consumer.run({
  // The same two-way concurrency as the processor's apply lanes.
  partitionsConsumedConcurrently: config.processor.applyConcurrency,
  autoCommitThreshold: 1,
  eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
    const values = batch.messages.map((m) => m.value ?? Buffer.alloc(0));
    await serde.prepare(values);
    const orders: BatchEvent[] = [];
    batch.messages.forEach((m, i) => {
      try {
        const decoded = serde.decode(values[i]!);
        if (!invalidEvent(decoded)) orders.push({ ...decoded, partition: batch.partition, offset: Number(m.offset) } as BatchEvent);
      } catch {
        // the benchmark backlog holds only valid orders
      }
    });
    // The same hint the processor's lanes keep: the ids of the partition's previous batch.
    const recent = recentByPartition.get(batch.partition) ?? new Set<string>();
    recentByPartition.set(batch.partition, recent);
    for (let i = 0; i < orders.length; i += config.processor.batchMaxMessages) {
      await applyBatch(pool, orders.slice(i, i + config.processor.batchMaxMessages), recent);
    }
    resolveOffset(batch.lastOffset());
    await heartbeat();
  },
});
const stop = () => void consumer.disconnect().then(() => pool.end()).then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
