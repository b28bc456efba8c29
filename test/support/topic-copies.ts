// How many copies of each order event a topic holds: a produce retried without idempotence (or a
// client retry with the same Idempotency-Key) writes the same orderId twice. Reads the whole topic
// from the beginning with a group-less consumer.
import Kafka from '@confluentinc/kafka-javascript';
import { createAdmin, createConsumer, disconnect } from '../../src/kafka/clients.js';
import type { TestBed } from './fixtures.js';
import { consumeExactly } from './consume.js';
import { unique } from './env.js';

export interface TopicCopies {
  /** OrderCreated messages. */
  messages: number;
  orders: number;
  /** Messages beyond the first of their orderId. */
  extraCopies: number;
}

export async function topicCopies(bed: TestBed): Promise<TopicCopies> {
  const { ordersTopic: topic, partitions, brokers } = bed.config.kafka;
  const admin = createAdmin({ brokers });
  const ends = await new Promise<number[]>((resolve, reject) =>
    admin.listOffsets(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: Kafka.OffsetSpec.LATEST })), { timeout: 10_000 }, (err, result) =>
      err ? reject(err) : resolve(result.map((r) => Number(r.offset))),
    ),
  ).finally(() => admin.disconnect());
  const messages = ends.reduce((sum, n) => sum + n, 0);
  const consumer = await createConsumer({ brokers, groupId: unique('copies') });
  try {
    const got = await consumeExactly(consumer, topic, partitions, messages, 120_000);
    const values = got.map((m) => m.value!).filter(Boolean);
    await bed.serde.prepare(values);
    // Order creations only: cancellations and restocks share the topic under their own ids.
    const created = values.map((value) => bed.serde.decode(value)).flatMap((e) => (e.type === 'OrderCreated' ? [e.event.orderId] : []));
    const ids = new Set(created);
    return { messages: created.length, orders: ids.size, extraCopies: created.length - ids.size };
  } finally {
    await disconnect(consumer);
  }
}
