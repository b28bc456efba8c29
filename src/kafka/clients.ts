// Factories for the native (librdkafka) clients. Every role connects through here, so the settings
// that matter for correctness — idempotent acks=all producing, manual offsets — live in one place.
import Kafka from '@confluentinc/kafka-javascript';
import type { Assignment, ConsumerGlobalConfig, KafkaConsumer as BindingConsumer, Producer, ProducerGlobalConfig, ProducerTopicConfig, IAdminClient, GlobalConfig } from '@confluentinc/kafka-javascript';

export type { Producer, IAdminClient, Message, LibrdKafkaError, Assignment } from '@confluentinc/kafka-javascript';

/** The binding's consumer, with the cooperative-rebalancing calls it has but does not declare. */
export type KafkaConsumer = BindingConsumer & {
  incrementalAssign(partitions: Assignment[]): void;
  incrementalUnassign(partitions: Assignment[]): void;
};
export const CODES = Kafka.CODES.ERRORS;

export interface KafkaOptions {
  brokers: string;
  clientId?: string;
  /** security.protocol, sasl.*, ssl.* (see Config.kafka.security) */
  security?: Record<string, string>;
}

function base(options: KafkaOptions): GlobalConfig {
  return {
    'bootstrap.servers': options.brokers,
    'client.id': options.clientId ?? 'order-stream',
    // librdkafka logs to stderr by default; errors surface as events and callbacks instead.
    'log_level': 3,
    ...(options.security as GlobalConfig | undefined),
  };
}

function connect<T extends Producer | BindingConsumer>(client: T, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    client.connect({ timeout: timeoutMs }, (err) => (err ? reject(err) : resolve(client)));
  });
}

/**
 * A producer, not connected yet (connectProducer): acks=all and idempotence so a retried send never
 * duplicates or reorders.
 */
export function newProducer(options: KafkaOptions, overrides: ProducerGlobalConfig & ProducerTopicConfig = {}): Producer {
  return new Kafka.Producer({
    ...base(options),
    'enable.idempotence': true,
    'acks': -1, // all in-sync replicas
    'dr_cb': true,
    // The api waits for each acknowledgement, so its throughput at a given number of connections is
    // bounded by the produce latency, and librdkafka's default 5 ms wait to fill a batch was most of
    // it: 1 ms gave 1.36× the acknowledged POST/s of 5 (BENCHMARKS.md, "linger.ms"). Once the api's
    // main thread shared two cores with the broker and the client, CPU per order bounded it
    // instead: 2 ms makes batches larger, so fewer produce requests (librdkafka sends one per
    // partition) for as many orders, and gave 1.12× the POST/s of 1 ms at 0.87× the CPU per order
    // (BENCHMARKS.md, "The api's main thread").
    'linger.ms': 2,
    'compression.type': 'lz4',
    ...overrides,
  });
}

/**
 * Connects (the first metadata answer within timeoutMs), then polls delivery reports on
 * librdkafka's background thread. May be called again after it failed.
 */
export async function connectProducer(producer: Producer, timeoutMs = 30_000): Promise<Producer> {
  await connect(producer, timeoutMs);
  producer.setPollInBackground(true);
  return producer;
}

/** A connected producer (newProducer, then connectProducer). */
export function createProducer(options: KafkaOptions, overrides: ProducerGlobalConfig & ProducerTopicConfig = {}): Promise<Producer> {
  return connectProducer(newProducer(options, overrides));
}

/** A connected, not yet subscribed consumer with manual offsets and cooperative rebalancing. */
export async function createConsumer(options: KafkaOptions & { groupId: string }, overrides: ConsumerGlobalConfig = {}): Promise<KafkaConsumer> {
  const consumer = new Kafka.KafkaConsumer(
    {
      ...base(options),
      'group.id': options.groupId,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'partition.assignment.strategy': 'cooperative-sticky',
      ...overrides,
    },
    { 'auto.offset.reset': 'earliest' },
  ) as KafkaConsumer;
  return connect(consumer, 30_000);
}

/** Messages asked of the binding per consume() call by the benchmarks' Kafka-limit row. */
export const CONSUME_BATCH = 5000;

/**
 * The processor's consumer tuning (also used by the benchmarks' Kafka-limit row, so both consume
 * alike). Prefetch is bounded so memory stays flat however large the backlog; see BENCHMARKS.md.
 */
export function processorConsumerSettings(batchMaxBytes: number): ConsumerGlobalConfig {
  return {
    // Bounded prefetch: memory stays flat however large the backlog. librdkafka keeps an op of a
    // few hundred bytes per queued message on top of the fetched bytes, so 2 MiB of ~110-byte
    // orders is ~20,000 messages (~0.2 s of draining) — enough to never starve the lanes, a
    // quarter of the RSS the earlier 8 MiB cost (BENCHMARKS.md, "RSS").
    'queued.max.messages.kbytes': 2048,
    'fetch.max.bytes': Math.min(batchMaxBytes, 1_048_576),
    // Small per-partition fetches interleave partitions in the local queue, so one poll holds
    // several partitions and the apply lanes get comparable shares.
    'max.partition.fetch.bytes': 65536,
    'fetch.wait.max.ms': 100,
    // With a queue this small the threshold is reached all the time, and librdkafka then postpones
    // the partition's next fetch by this much: its default of 1 s capped the whole consumer at
    // ≈ 26,000 messages/s (BENCHMARKS.md, "fetch.queue.backoff.ms").
    'fetch.queue.backoff.ms': 10,
  };
}

/**
 * The last authentication or TLS failure an admin client met: librdkafka logs it (a wrong SASL
 * password, an unverifiable certificate) while the call that needed the broker only times out.
 */
const securityFailures = new WeakMap<IAdminClient, string>();
const SECURITY_FAILURE = /SASL authentication error|SSL handshake failed|certificate verify failed|authentication failure/i;

export function createAdmin(options: KafkaOptions): IAdminClient {
  const admin: IAdminClient = Kafka.AdminClient.create(base(options), {
    'event.log': (entry: { message?: string }) => {
      const text = entry.message ?? '';
      if (SECURITY_FAILURE.test(text)) securityFailures.set(admin, text.replace(/^\[thrd:[^\]]*\]: /, ''));
    },
  });
  return admin;
}

/** Why the admin's brokers refused it, if they did (for a not-ready reason that says so). */
export function securityFailure(admin: IAdminClient): string | undefined {
  return securityFailures.get(admin);
}

/** Producers flush first (up to timeoutMs); consumers leave their group. */
export function disconnect(client: Producer | BindingConsumer, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    if (!client.isConnected()) return resolve();
    if (client instanceof Kafka.Producer) client.disconnect(timeoutMs, () => resolve());
    else client.disconnect(() => resolve());
  });
}
