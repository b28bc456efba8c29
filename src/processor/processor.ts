// The processor role: consume → decode → plan → apply (one transaction) → commit, one batch at a
// time. Offsets are committed only after the database commit and after any dead letters of the
// batch are acknowledged, so a crash anywhere replays the batch — and replays change nothing,
// because the apply step skips orderIds already stored.
import type { Config } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { Pool } from '../db/pool.js';
import { createConsumer, disconnect, CODES, type KafkaConsumer, type Message, type LibrdKafkaError } from '../kafka/clients.js';
import type { DeliveryTracker } from '../kafka/delivery.js';
import type { OrderSerde } from '../serde/order-serde.js';
import { invalidField } from '../domain/order.js';
import { applyBatch, type Applied } from './apply.js';
import { sendToDlq, type DeadLetter } from './dlq.js';
import type { BatchOrder } from './plan.js';
import { retryTransient, Stopped } from './retry.js';

export interface ProcessorDeps {
  config: Config;
  log: Logger;
  pool: Pool;
  serde: OrderSerde;
  dlq: DeliveryTracker;
  /** Called after each applied batch (metrics, tests). */
  onBatch?: (summary: BatchSummary) => void;
  /** Called on each transient failure about to be retried (metrics). */
  onRetry?: (operation: string) => void;
}

export interface BatchSummary {
  messages: number;
  applied: Applied | undefined;
  deadLetters: number;
  applySeconds: number;
}

interface DecodedBatch {
  id: number;
  lane: number;
  messages: Message[];
  orders: BatchOrder[];
  deadLetters: DeadLetter[];
}

export class Processor {
  private consumer: KafkaConsumer | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private joined = false;
  private readonly assignment = new Set<string>();
  private batchNo = 0;

  constructor(private readonly deps: ProcessorDeps) {}

  async start(): Promise<void> {
    const { config, log } = this.deps;
    const consumer = await createConsumer(
      { brokers: config.kafka.brokers, groupId: config.kafka.groupId, clientId: 'order-stream-processor' },
      {
        'rebalance_cb': true,
        // Bounded prefetch: memory stays flat however large the backlog.
        'queued.max.messages.kbytes': 8192,
        'fetch.max.bytes': config.processor.batchMaxBytes,
        // Small per-partition fetches interleave partitions in the local queue, so one poll holds
        // several partitions and the apply lanes get comparable shares.
        'max.partition.fetch.bytes': 65536,
        'fetch.wait.max.ms': 100,
        // A long database outage keeps us retrying one batch; stay in the group meanwhile.
        'max.poll.interval.ms': 600_000,
        // A crashed replica's partitions move to the others after 10 s rather than the default 45 s.
        'session.timeout.ms': 10_000,
        'heartbeat.interval.ms': 2_000,
      },
    );
    consumer.on('rebalance', (err: LibrdKafkaError, partitions) => {
      this.joined = true;
      const keys = partitions.map((p) => `${p.topic}/${p.partition}`);
      if (err.code === CODES.ERR__ASSIGN_PARTITIONS) keys.forEach((k) => this.assignment.add(k));
      else if (err.code === CODES.ERR__REVOKE_PARTITIONS) keys.forEach((k) => this.assignment.delete(k));
      log.info({ event: err.code === CODES.ERR__ASSIGN_PARTITIONS ? 'assigned' : 'revoked', partitions: keys }, 'rebalance');
    });
    consumer.setDefaultConsumeTimeout(config.processor.batchWaitMs);
    consumer.subscribe([config.kafka.ordersTopic]);
    this.consumer = consumer;
    this.loop = this.run(consumer);
  }

  /** Ready once the consumer has joined its group (with or without partitions). */
  get ready(): boolean {
    return this.joined && !this.stopping;
  }

  get assignedPartitions(): string[] {
    return [...this.assignment].sort();
  }

  /**
   * Messages behind the end of each assigned partition: the broker's high watermark (cached by
   * librdkafka from fetch responses, no request) minus this consumer's position.
   */
  lag(): Array<{ topic: string; partition: number; lag: number }> {
    const consumer = this.consumer;
    if (!consumer || !consumer.isConnected()) return [];
    const result: Array<{ topic: string; partition: number; lag: number }> = [];
    let positions: Array<{ topic: string; partition: number; offset?: number }> = [];
    try {
      positions = consumer.position();
    } catch {
      return [];
    }
    for (const { topic, partition, offset } of positions) {
      try {
        const { highOffset } = consumer.getWatermarkOffsets(topic, partition);
        if (highOffset >= 0 && offset !== undefined && offset >= 0) result.push({ topic, partition, lag: Math.max(0, highOffset - offset) });
      } catch {
        // no fetch yet for this partition: no watermark cached
      }
    }
    return result;
  }

  /** Stop fetching, finish and commit the batch in flight, leave the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    if (this.consumer) await disconnect(this.consumer);
    this.deps.log.info('processor stopped');
  }

  private consume(consumer: KafkaConsumer): Promise<Message[]> {
    return new Promise((resolve, reject) =>
      consumer.consume(this.deps.config.processor.batchMaxMessages, (err, messages) => (err ? reject(err) : resolve(messages))),
    );
  }

  // Two-stage pipeline: while PostgreSQL applies batch N, the next batch is consumed and decoded.
  // Offsets are still committed strictly after each batch's own database commit.
  private async run(consumer: KafkaConsumer): Promise<void> {
    let next = this.fetch(consumer);
    try {
      while (!this.stopping) {
        const batches = await next;
        if (this.stopping) break; // fetched but not applied: redelivered to whoever owns it next
        next = this.fetch(consumer);
        // Lanes hold disjoint partitions, so each partition is still applied in offset order;
        // products are keyed to partitions, so concurrent lanes rarely wait on each other's locks.
        await Promise.all(
          this.lanes(batches).map(async (lane) => {
            for (const batch of lane) {
              await this.apply(batch);
              this.commit(consumer, batch.messages, false);
            }
          }),
        );
      }
    } catch (err) {
      if (!(err instanceof Stopped)) throw err;
      this.deps.log.warn('stopped with a batch not applied; it will be redelivered');
    }
    await next.catch(() => undefined); // no consume call may outlive the loop
  }

  /** Consume → split by bytes → decode. Never throws for bad messages: they become dead letters. */
  private async fetch(consumer: KafkaConsumer): Promise<DecodedBatch[]> {
    let messages: Message[] = [];
    try {
      messages = await this.consume(consumer);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'consume failed, retrying');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    if (messages.length === 0) return [];
    const { serde } = this.deps;
    await retryTransient(() => serde.prepare(messages.map((m) => m.value ?? Buffer.alloc(0))), this.retry('schema lookup', 0));
    const lanes = this.deps.config.processor.applyConcurrency;
    const byLane = new Map<number, Message[]>();
    for (const message of messages) {
      const lane = message.partition % lanes;
      const list = byLane.get(lane);
      if (list) list.push(message);
      else byLane.set(lane, [message]);
    }
    const chunks = [...byLane].flatMap(([lane, laneMessages]) => [...this.byBytes(laneMessages)].map((chunk) => ({ lane, chunk })));
    return chunks.map(({ lane, chunk }) => {
      const batch: DecodedBatch = { id: ++this.batchNo, lane, messages: chunk, orders: [], deadLetters: [] };
      for (const message of chunk) {
        try {
          const order = serde.decode(message.value ?? Buffer.alloc(0));
          const invalid = invalidField(order);
          if (invalid) batch.deadLetters.push({ message, error: 'InvalidField', reason: invalid });
          else batch.orders.push({ order, partition: message.partition, offset: message.offset });
        } catch (err) {
          batch.deadLetters.push({ message, error: (err as Error).name, reason: (err as Error).message });
        }
      }
      return batch;
    });
  }

  /** Dead letters acknowledged, then the orders applied in one transaction. */
  private async apply(batch: DecodedBatch): Promise<void> {
    const { pool, log, config, dlq } = this.deps;
    if (batch.deadLetters.length) {
      await retryTransient(() => sendToDlq(dlq, config.kafka.dlqTopic, batch.deadLetters), this.retry('dead-letter produce', batch.id));
      log.warn({ batchId: batch.id, deadLetters: batch.deadLetters.length, first: batch.deadLetters[0]!.reason }, 'messages sent to the dead-letter topic');
    }
    const started = process.hrtime.bigint();
    const applied = batch.orders.length ? await retryTransient(() => applyBatch(pool, batch.orders), this.retry('batch apply', batch.id)) : undefined;
    const applySeconds = Number(process.hrtime.bigint() - started) / 1e9;
    log.debug({ batchId: batch.id, messages: batch.messages.length, inserted: applied?.inserted ?? 0, applySeconds }, 'batch applied');
    this.deps.onBatch?.({ messages: batch.messages.length, applied, deadLetters: batch.deadLetters.length, applySeconds });
  }

  private retry(what: string, batchId: number) {
    return {
      what,
      isStopping: () => this.stopping,
      onRetry: (err: Error, attempt: number, delayMs: number) => {
        this.deps.onRetry?.(what);
        this.deps.log.warn({ batchId, err: err.message, attempt, delayMs }, `${what} failed, retrying`);
      },
    };
  }

  /** Groups batches into PROCESSOR_APPLY_CONCURRENCY lanes by partition. */
  private lanes(batches: DecodedBatch[]): DecodedBatch[][] {
    const count = this.deps.config.processor.applyConcurrency;
    const lanes: DecodedBatch[][] = Array.from({ length: count }, () => []);
    for (const batch of batches) lanes[batch.lane % count]!.push(batch);
    return lanes.filter((lane) => lane.length > 0);
  }

  /** Splits a poll's messages so no transaction exceeds PROCESSOR_BATCH_MAX_BYTES. */
  private *byBytes(messages: Message[]): Generator<Message[]> {
    const limit = this.deps.config.processor.batchMaxBytes;
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < messages.length; i++) {
      bytes += messages[i]!.size;
      if (bytes > limit && i > start) {
        yield messages.slice(start, i);
        start = i;
        bytes = messages[i]!.size;
      }
    }
    yield start === 0 ? messages : messages.slice(start);
  }

  /** Commits the next offset of every partition in the batch. */
  private commit(consumer: KafkaConsumer, messages: Message[], sync: boolean): void {
    const next = new Map<string, { topic: string; partition: number; offset: number }>();
    for (const m of messages) next.set(`${m.topic}/${m.partition}`, { topic: m.topic, partition: m.partition, offset: m.offset + 1 });
    const offsets = [...next.values()];
    try {
      // Async is safe: a lost commit only means a replay, and replays change nothing.
      if (sync || this.stopping) consumer.commitSync(offsets);
      else consumer.commit(offsets);
    } catch (err) {
      // Partitions revoked meanwhile: their new owner replays from the last commit, harmlessly.
      this.deps.log.warn({ err: (err as Error).message }, 'offset commit failed');
    }
  }
}
