// Building blocks for integration tests on the real stack: a private topic pair and consumer group
// per test, order producers, product loading, and waiting on observable conditions.
import { randomUUID } from 'node:crypto';
import { stackConfig, unique } from './env.js';
import type { Config } from '../../src/config/index.js';
import { createAdmin, createProducer, disconnect, type Producer } from '../../src/kafka/clients.js';
import { DeliveryTracker, type OutgoingMessage } from '../../src/kafka/delivery.js';
import { ensureTopics, topicSpecs } from '../../src/kafka/topics.js';
import { createRegistry, registryRest } from '../../src/serde/registry.js';
import { useContract } from '../../src/serde/contract.js';
import { OrderSerde, valueSubject } from '../../src/serde/order-serde.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { migrate } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';
import { Processor, type BatchSummary } from '../../src/processor/processor.js';
import type { OrderCreated } from '../../src/domain/order.js';

export { eventually } from './eventually.js';

export interface TestBed {
  config: Config;
  pool: Pool;
  serde: OrderSerde;
  producer: Producer;
  delivery: DeliveryTracker;
  /** A prefix for ids no other test uses. */
  tag: string;
  close(): Promise<void>;
}

/** A config with its own topics and group, the topics created, the schema registered. */
export async function testBed(partitions = 6, overrides: Record<string, string> = {}): Promise<TestBed> {
  const tag = unique('t');
  const config = stackConfig({
    ORDERS_TOPIC: `${tag}-orders`,
    ORDERS_DLQ_TOPIC: `${tag}-orders.dlq`,
    PROCESSOR_GROUP_ID: `${tag}-group`,
    ORDERS_TOPIC_PARTITIONS: String(partitions),
    PORT: '0',
    MANAGEMENT_PORT: '0',
    HOST: '127.0.0.1',
    ...overrides,
  });
  const admin = createAdmin({ brokers: config.kafka.brokers, security: config.kafka.security });
  await ensureTopics(admin, topicSpecs(config.kafka)); // replication and min ISR of the stack's env
  admin.disconnect();
  const pool = createPool(config.database.url, 8);
  await migrate(pool);
  const serde = new OrderSerde(createRegistry(config.registry), valueSubject(config.kafka.ordersTopic));
  await useContract(serde, registryRest(config.registry));
  const producer = await createProducer({ brokers: config.kafka.brokers, security: config.kafka.security });
  const delivery = new DeliveryTracker(producer);
  return {
    config, pool, serde, producer, delivery, tag,
    async close() {
      await disconnect(producer);
      await pool.end();
    },
  };
}

export function makeOrder(bed: TestBed, productId: string, qty: number, userId = `${bed.tag}-u`): OrderCreated {
  return { orderId: randomUUID(), userId, productId, qty, unitPrice: 100, totalPrice: qty * 100, createdAt: Date.now() };
}

/** Produces messages, at most `window` awaiting acknowledgement at once. */
export async function produceAll(bed: TestBed, messages: OutgoingMessage[], window = 5000): Promise<void> {
  for (let i = 0; i < messages.length; i += window) await Promise.all(messages.slice(i, i + window).map((m) => bed.delivery.send(m)));
}

export const orderMessage = (bed: TestBed, order: OrderCreated, partition?: number): OutgoingMessage => ({
  topic: bed.config.kafka.ordersTopic,
  key: order.productId,
  value: bed.serde.encode({ type: 'OrderCreated', event: order }),
  ...(partition === undefined ? {} : { partition }),
});

/** Creates or resets products at `unitPrice` (makeOrder orders at 100). */
export async function putProducts(pool: Pool, stock: Record<string, number>, unitPrice = 100): Promise<void> {
  const ids = Object.keys(stock);
  await pool.query(
    `INSERT INTO catalog (product_id, product_name, unit_price, stock) SELECT id, id, $3, s FROM unnest($1::text[], $2::bigint[]) AS t(id, s)
     ON CONFLICT (product_id) DO UPDATE SET stock = EXCLUDED.stock, unit_price = EXCLUDED.unit_price`,
    [ids, ids.map((id) => stock[id]!), unitPrice],
  );
}

/** Starts an in-process processor on the bed's topic and group. */
export async function startProcessor(bed: TestBed, onBatch?: (s: BatchSummary) => void, groupId?: string): Promise<Processor> {
  const config = groupId ? { ...bed.config, kafka: { ...bed.config.kafka, groupId } } : bed.config;
  const processor = new Processor({ config, log: createLogger('warn', { test: bed.tag }), pool: bed.pool, serde: bed.serde, dlq: bed.delivery, ...(onBatch ? { onBatch } : {}) });
  await processor.start();
  return processor;
}

export interface Totals {
  orders: number;
  accepted: number;
  acceptedQty: number;
  rejected: number;
}

export async function totals(pool: Pool, tag: string): Promise<Totals> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS orders,
            count(*) FILTER (WHERE status = 'ACCEPTED')::int AS accepted,
            coalesce(sum(qty) FILTER (WHERE status = 'ACCEPTED'), 0)::int AS "acceptedQty",
            count(*) FILTER (WHERE status = 'REJECTED')::int AS rejected
     FROM orders WHERE user_id LIKE $1`,
    [`${tag}%`],
  );
  return rows[0] as Totals;
}

export async function stockOf(pool: Pool, productIds: string[]): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ product_id: string; stock: number }>('SELECT product_id, stock FROM catalog WHERE product_id = ANY($1)', [productIds]);
  return Object.fromEntries(rows.map((r) => [r.product_id, r.stock]));
}
