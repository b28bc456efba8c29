// Reads messages back from a topic for assertions: assigns every partition from the beginning
// (no group membership to wait for) and returns once `count` messages arrived.
import type { KafkaConsumer, Message } from '../../src/kafka/clients.js';

export async function consumeExactly(consumer: KafkaConsumer, topic: string, partitions: number, count: number, timeoutMs = 30_000): Promise<Message[]> {
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
  const got: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${got.length} of ${count} messages arrived on ${topic} within ${timeoutMs} ms`);
    const batch = await new Promise<Message[]>((resolve, reject) =>
      consumer.consume(count - got.length, (err, messages) => (err ? reject(err) : resolve(messages))),
    );
    got.push(...batch);
  }
  return got;
}
