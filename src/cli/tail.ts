// order-stream tail — prints the topic as decoded JSON lines, the counterpart of the notes' console
// consumer. It reads without a consumer group (nothing is committed, no one's offsets move).
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { createAdmin, createConsumer, disconnect, type Message } from '../kafka/clients.js';
import { describePartitions } from '../kafka/topics.js';
import { createRegistry } from '../serde/registry.js';
import { OrderSerde, valueSubject } from '../serde/order-serde.js';

const HELP = `usage: order-stream tail [--from-beginning] [--max N] [--topic NAME]

  --from-beginning  start at the oldest message (default: only new messages)
  --max             exit after N messages
  --topic           another topic in the same format, e.g. the DLQ (default ORDERS_TOPIC)

One JSON line per message: {"partition","offset","key","type","event"} or {"partition","offset","error"},
with "headers" when the message has some (the DLQ's dlq.reason, dlq.source.*).`;

export async function runTail(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'from-beginning': { type: 'boolean' }, max: { type: 'string' }, topic: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const max = values.max === undefined ? Infinity : Number(values.max);
  if (!(max > 0)) throw new Error(`--max must be a positive number (got ${values.max})`);
  const config = loadConfig();
  const topic = values.topic ?? config.kafka.ordersTopic;
  const serde = new OrderSerde(createRegistry(config.registry), valueSubject(config.kafka.ordersTopic));

  const admin = createAdmin({ brokers: config.kafka.brokers, security: config.kafka.security, clientId: 'order-stream-tail' });
  const partitions = await describePartitions(admin, topic).finally(() => admin.disconnect());
  const consumer = await createConsumer({ brokers: config.kafka.brokers, security: config.kafka.security, groupId: 'order-stream-tail', clientId: 'order-stream-tail' });
  const start = values['from-beginning'] ? -2 : -1; // librdkafka's OFFSET_BEGINNING / OFFSET_END
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: start })));
  consumer.setDefaultConsumeTimeout(200);

  let stopping = false;
  const stop = () => void (stopping = true);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let printed = 0;
  while (!stopping && printed < max) {
    const messages = await new Promise<Message[]>((resolve, reject) => consumer.consume(500, (err, m) => (err ? reject(err) : resolve(m))));
    await serde.prepare(messages.map((m) => m.value ?? Buffer.alloc(0)));
    for (const m of messages) {
      if (printed >= max) break;
      const headers = m.headers?.length ? Object.fromEntries(m.headers.flatMap((h) => Object.entries(h).map(([k, v]) => [k, v.toString()]))) : undefined;
      const base = { partition: m.partition, offset: m.offset, key: m.key?.toString() ?? null, ...(headers ? { headers } : {}) };
      try {
        const { type, event } = serde.decode(m.value ?? Buffer.alloc(0));
        process.stdout.write(JSON.stringify({ ...base, type, event: { ...event } }) + '\n');
      } catch (err) {
        process.stdout.write(JSON.stringify({ ...base, error: (err as Error).message }) + '\n');
      }
      printed++;
    }
  }
  await disconnect(consumer);
  return 0;
}
