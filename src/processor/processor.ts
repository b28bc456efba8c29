// The processor role: consume → decode → plan → apply (one transaction) → commit.
//
// One fetch loop polls the consumer and deals messages to PROCESSOR_APPLY_CONCURRENCY lanes by
// partition; each lane applies its partitions' messages batch after batch, on its own database
// connection, without waiting for the other lanes. While a lane is busy its next batch grows (up
// to PROCESSOR_BATCH_MAX_MESSAGES / _BYTES): batches are large under load and small when idle.
// Offsets are committed per batch, only after its database commit and after its dead letters are
// acknowledged, so a crash anywhere replays — and replays change nothing, because the apply step
// recognises event ids already stored. Memory is bounded: the loop consumes only while a lane
// lacks its next batch, and a lane that holds two batches besides the one it applies has its
// partitions paused until it is down to one (backpressure.ts) while the other lanes are fed. A
// revoked partition's messages are dropped, and the revocation waits for the consume call in
// flight (rebalances.ts), so nothing is committed past a message this replica dropped. What to do
// with the messages is the topology's (topology.ts, plan.ts); this file only moves them.
import type { Config } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { Pool } from '../db/pool.js';
import { createConsumer, disconnect, processorConsumerSettings, CODES, type Assignment, type KafkaConsumer, type Message, type LibrdKafkaError } from '../kafka/clients.js';
import type { DeliveryTracker } from '../kafka/delivery.js';
import type { OrderSerde } from '../serde/order-serde.js';
import { applyBatch, type Applied } from './apply.js';
import { sendToDlq } from './dlq.js';
import { route, split, isDeadLetter, type Routed, type RoutedMessage } from './topology.js';
import { take } from './batching.js';
import type { BatchEvent } from './plan.js';
import { retry, Stopped, TRANSIENT_BACKOFF, type RetryOptions } from '../retry.js';
import { Rebalances, partitionKey } from './rebalances.js';
import { Backpressure } from './backpressure.js';

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
  /**
   * Called once if the processor stops on an unexpected error (a bug, not a bad message nor a
   * transient failure), after the other lanes finished; the composition root decides to exit.
   */
  onFatal?: (err: Error) => void;
}

export interface BatchSummary {
  messages: number;
  /** The batch's events; applied.plan.verdicts has one per event, in this order. */
  events: readonly BatchEvent[];
  applied: Applied | undefined;
  deadLetters: number;
  applySeconds: number;
}

interface RoutedBatch extends Routed {
  id: number;
  /** How many messages the batch holds. */
  size: number;
  /** The offsets to commit once it is applied: the next offset of each of its partitions. */
  offsets: TopicPartitionOffset[];
}

type TopicPartitionOffset = { topic: string; partition: number; offset: number };

export class Processor {
  private consumer: KafkaConsumer | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private joined = false;
  /** Revocations must wait for the consume call in flight: see rebalances.ts. */
  private readonly rebalances = new Rebalances<Assignment>();
  /** Pauses the partitions of a lane that holds two batches besides the one it applies. */
  private flow: Backpressure | undefined;
  private batchNo = 0;
  /** Messages dealt to each lane, decoded, and not yet taken into a batch; with their sizes. */
  private pending: RoutedMessage[][] = [];
  /** The event ids each lane stored with its last batch: applyBatch's hint for quick retries. */
  private recent: Set<string>[] = [];
  private pendingSizes: number[][] = [];
  /** Partitions revoked while deal() waited for a schema look-up: see deal(). */
  private revokedWhileDealing: Set<string> | undefined;
  /** The batch each lane is applying, if any. */
  private busy: Array<Promise<void> | undefined> = [];
  private laneFreed: Array<() => void> = [];
  private failure: Error | undefined;
  private failed = false;

  constructor(private readonly deps: ProcessorDeps) {}

  async start(): Promise<void> {
    const { config, log } = this.deps;
    const consumer = await createConsumer(
      { brokers: config.kafka.brokers, security: config.kafka.security, groupId: config.kafka.groupId, clientId: 'order-stream-processor' },
      {
        // We assign and unassign ourselves (onRebalance): a revocation has to wait for the
        // consume call in flight, whose messages for the revoked partitions are stale.
        'rebalance_cb': (err: LibrdKafkaError | undefined, partitions: Assignment[]) => this.onRebalance(err, partitions),
        ...processorConsumerSettings(config.processor.batchMaxBytes),
        // A long database outage keeps us retrying one batch; stay in the group meanwhile.
        'max.poll.interval.ms': 600_000,
        // A crashed replica's partitions move to the others after 10 s rather than the default 45 s.
        'session.timeout.ms': 10_000,
        'heartbeat.interval.ms': 2_000,
      },
    );
    this.consumer = consumer;
    consumer.setDefaultConsumeTimeout(config.processor.batchWaitMs);
    consumer.subscribe([config.kafka.ordersTopic]);
    this.loop = this.run(consumer).catch((err: Error) => {
      // Not a bad message (those go to the DLQ) nor a transient failure (retried): a bug.
      log.fatal({ err }, 'processor failed');
      this.failed = true;
      this.deps.onFatal?.(err);
    });
  }

  /** Cooperative rebalancing (createConsumer): partitions come and go a few at a time. */
  private onRebalance(err: LibrdKafkaError | undefined, partitions: Assignment[]): void {
    const consumer = this.consumer;
    if (!consumer) return;
    this.joined = true;
    const assigned = err?.code === CODES.ERR__ASSIGN_PARTITIONS;
    const revokedNow = err?.code === CODES.ERR__REVOKE_PARTITIONS;
    this.deps.log.info({ event: assigned ? 'assigned' : revokedNow ? 'revoked' : err?.message, partitions: partitions.map(partitionKey) }, 'rebalance');
    try {
      if (assigned) {
        this.rebalances.assigned(partitions);
        consumer.incrementalAssign(partitions);
        const pause = this.flow?.pausedAmong(partitions) ?? [];
        if (pause.length) consumer.pause(pause);
      } else if (revokedNow) {
        const revoked = new Set(partitions.map(partitionKey));
        for (const key of revoked) this.revokedWhileDealing?.add(key);
        for (let lane = 0; lane < this.pending.length; lane++) this.dropRevoked(lane, revoked);
        const now = this.rebalances.revoked(partitions);
        if (now.length) consumer.incrementalUnassign(now);
      }
    } catch (e) {
      // Only when the consumer is closing: there is nothing left to assign.
      if (consumer.isConnected()) this.deps.log.warn({ err: (e as Error).message }, 'rebalance failed');
    }
  }

  /** The messages of a consume call that are still ours; carries out a revocation held back. */
  private keepCurrent(consumer: KafkaConsumer, messages: Message[]): Message[] {
    const { kept, unassign } = this.rebalances.returned(messages);
    if (unassign.length === 0) return kept;
    if (kept.length < messages.length) this.deps.log.info({ dropped: messages.length - kept.length }, 'dropped messages fetched before a revocation');
    try {
      consumer.incrementalUnassign(unassign);
    } catch (e) {
      if (consumer.isConnected()) this.deps.log.warn({ err: (e as Error).message }, 'unassign failed');
    }
    return kept;
  }

  /** Ready once the consumer has joined its group (with or without partitions). */
  get ready(): boolean {
    return this.joined && !this.stopping && !this.failed;
  }

  get assignedPartitions(): string[] {
    return this.rebalances.assignment;
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

  private async run(consumer: KafkaConsumer): Promise<void> {
    const { applyConcurrency: lanes, batchMaxMessages, batchMaxBytes } = this.deps.config.processor;
    const flow = (this.flow = new Backpressure(lanes, batchMaxMessages, batchMaxBytes));
    this.pending = Array.from({ length: lanes }, () => []);
    this.pendingSizes = Array.from({ length: lanes }, () => []);
    this.busy = Array.from({ length: lanes }, () => undefined);
    while (!this.stopping) {
      this.pauseResume(consumer, flow.toResume(this.rebalances.partitions), 'resume');
      // Every lane holds its next batch besides the one it applies: nothing to fetch until one
      // takes it (backpressure.ts, hungry).
      if (!flow.hungry(this.rebalances.partitions)) {
        await new Promise<void>((resolve) => this.laneFreed.push(resolve));
        continue;
      }
      let messages: Message[] = [];
      this.rebalances.consuming();
      try {
        messages = await this.consume(consumer);
      } catch (err) {
        this.deps.log.warn({ err: (err as Error).message }, 'consume failed, retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      messages = this.keepCurrent(consumer, messages);
      try {
        await this.deal(messages, flow);
      } catch (err) {
        if (err instanceof Stopped) break; // their offsets are not committed: redelivered
        throw err;
      }
      this.pauseResume(consumer, flow.toPause(this.rebalances.partitions), 'pause');
      for (let lane = 0; lane < lanes; lane++) this.pump(consumer, lane);
    }
    await Promise.all(this.busy);
    if (this.failure) throw this.failure;
  }

  private pauseResume(consumer: KafkaConsumer, partitions: Assignment[], what: 'pause' | 'resume'): void {
    if (partitions.length === 0) return;
    try {
      consumer[what](partitions);
    } catch (e) {
      // Only when the consumer is closing or the partitions were just revoked: nothing to hold back.
      if (consumer.isConnected()) this.deps.log.warn({ err: (e as Error).message }, `${what} failed`);
    }
  }

  /** Starts the lane's next batch unless it is busy or has nothing pending. */
  private pump(consumer: KafkaConsumer, lane: number): void {
    if (this.busy[lane] || this.stopping || this.pending[lane]!.length === 0) return;
    const { batchMaxMessages, batchMaxBytes } = this.deps.config.processor;
    const { items, bytes } = take(this.pending[lane]!, this.pendingSizes[lane]!, batchMaxMessages, batchMaxBytes);
    this.flow!.removed(lane, items.length, bytes);
    this.pauseResume(consumer, this.flow!.toResume(this.rebalances.partitions), 'resume');
    this.busy[lane] = (async () => {
      try {
        const batch: RoutedBatch = { id: ++this.batchNo, size: items.length, offsets: nextOffsets(this.deps.config.kafka.ordersTopic, items), ...split(items) };
        await this.apply(batch, lane);
        this.commit(consumer, batch.offsets);
      } catch (err) {
        if (err instanceof Stopped) {
          this.deps.log.warn({ lane }, 'stopped with a batch not applied; it will be redelivered');
        } else {
          // A bug, not a bad message: stop the role rather than skip or loop (the pod restarts).
          this.failure = err as Error;
          this.stopping = true;
        }
      } finally {
        this.busy[lane] = undefined;
        this.laneFreed.splice(0).forEach((resolve) => resolve());
        this.pump(consumer, lane);
      }
    })();
  }

  /**
   * Decodes a consume call's messages as they arrive and deals them to their lanes, so a lane holds
   * events rather than the binding's message objects (two Buffers each), and decoding overlaps the
   * lanes' database work. Fetching unseen writer schemas is the only I/O. Bad messages become dead
   * letters, kept in place so the offsets committed never pass one before it is in the DLQ.
   */
  private async deal(messages: Message[], flow: Backpressure): Promise<void> {
    if (messages.length === 0) return;
    const { serde } = this.deps;
    // A partition revoked during the look-up had its pending messages dropped; dealing this call's
    // messages of it now would let a commit pass them (the same hazard as in rebalances.ts).
    const revoked = (this.revokedWhileDealing = new Set());
    try {
      await retry(() => serde.prepare(messages.map((m) => m.value ?? Buffer.alloc(0))), this.retrying('schema lookup', this.batchNo + 1));
    } finally {
      this.revokedWhileDealing = undefined;
    }
    const decode = (value: Buffer) => serde.decode(value);
    for (const message of messages) {
      if (revoked.size && revoked.has(partitionKey(message))) continue;
      const lane = flow.laneOf(message.partition);
      this.pending[lane]!.push(route(message, decode));
      this.pendingSizes[lane]!.push(message.size);
      flow.added(lane, 1, message.size);
    }
  }

  /** Drops a lane's pending messages of revoked partitions: their next owner replays them. */
  private dropRevoked(lane: number, revoked: ReadonlySet<string>): void {
    const items = this.pending[lane]!;
    const sizes = this.pendingSizes[lane]!;
    const topic = this.deps.config.kafka.ordersTopic;
    let kept = 0;
    let droppedBytes = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const key = isDeadLetter(item) ? partitionKey(item.message) : partitionKey({ topic, partition: item.partition });
      if (revoked.has(key)) {
        droppedBytes += sizes[i]!;
        continue;
      }
      items[kept] = item;
      sizes[kept++] = sizes[i]!;
    }
    const dropped = items.length - kept;
    items.length = kept;
    sizes.length = kept;
    if (dropped) this.flow?.removed(lane, dropped, droppedBytes);
  }

  /** Dead letters acknowledged, then the events applied in one transaction. */
  private async apply(batch: RoutedBatch, lane: number): Promise<void> {
    const { pool, log, config, dlq } = this.deps;
    if (batch.deadLetters.length) {
      await retry(() => sendToDlq(dlq, config.kafka.dlqTopic, batch.deadLetters), this.retrying('dead-letter produce', batch.id));
      log.warn({ batchId: batch.id, deadLetters: batch.deadLetters.length, first: batch.deadLetters[0]!.reason }, 'messages sent to the dead-letter topic');
    }
    const started = process.hrtime.bigint();
    const applied = batch.events.length ? await retry(() => applyBatch(pool, batch.events, (this.recent[lane] ??= new Set())), this.retrying('batch apply', batch.id)) : undefined;
    const applySeconds = Number(process.hrtime.bigint() - started) / 1e9;
    log.debug({ batchId: batch.id, messages: batch.size, inserted: applied?.inserted ?? 0, applySeconds }, 'batch applied');
    this.deps.onBatch?.({ messages: batch.size, events: batch.events, applied, deadLetters: batch.deadLetters.length, applySeconds });
  }

  private retrying(what: string, batchId: number): RetryOptions {
    return {
      what,
      backoff: TRANSIENT_BACKOFF,
      isStopping: () => this.stopping,
      onRetry: ({ err, attempt, delayMs }) => {
        this.deps.onRetry?.(what);
        this.deps.log.warn({ batchId, err: err.message, attempt, delayMs }, `${what} failed, retrying`);
      },
    };
  }

  /** Commits the next offset of every partition in the batch. */
  private commit(consumer: KafkaConsumer, offsets: TopicPartitionOffset[]): void {
    try {
      // Async is safe: a lost commit only means a replay, and replays change nothing.
      if (this.stopping) consumer.commitSync(offsets);
      else consumer.commit(offsets);
    } catch (err) {
      // Partitions revoked meanwhile: their new owner replays from the last commit, harmlessly.
      this.deps.log.warn({ err: (err as Error).message }, 'offset commit failed');
    }
  }
}

/** The next offset of each partition the batch's messages come from (what a commit stores). */
function nextOffsets(topic: string, items: readonly RoutedMessage[]): TopicPartitionOffset[] {
  // No object or string per message: this runs for every message the processor reads.
  const next = new Map<number, number>();
  for (const item of items) {
    if (isDeadLetter(item)) next.set(item.message.partition, item.message.offset + 1);
    else next.set(item.partition, item.offset + 1);
  }
  return [...next].map(([partition, offset]) => ({ topic, partition, offset }));
}
