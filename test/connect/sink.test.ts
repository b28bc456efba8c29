// The notes' sink, running: deploy/connect/orders-jdbc-sink.json on the local Kafka Connect worker
// (Debezium JDBC sink, Apicurio's AvroConverter), fed by orders POSTed to the api role. Every
// OrderCreated becomes one row of orders_sink with the event's fields; cancellations and restocks
// (the union's other branches) write nothing; a worker SIGKILL and a full redelivery of the topic
// leave one row per order with the same values.
import { expect } from 'chai';
import { eventually, putProducts, testBed, type TestBed } from '../support/fixtures.js';
import { createAdmin, createConsumer, disconnect, type IAdminClient, type KafkaConsumer } from '../../src/kafka/clients.js';
import { startedService, type RunningService } from '../support/service.js';
import {
  awaitRunning, awaitState, deleteConnector, deployedConnector, killWorker, putConnector, resetOffsets, resumeConnector, startWorker, stopConnector,
} from '../support/connect.js';

interface Posted {
  orderId: string;
  userId: string;
  productId: string;
  qty: number;
  unitPrice: number;
  totalPrice: number;
  createdAt: string;
}

interface SinkRow {
  order_id: string;
  user_id: string;
  product_id: string;
  qty: number;
  unit_price: string;
  total_price: string;
  created_ms: string;
}

describe('Kafka Connect JDBC sink (deploy/connect/orders-jdbc-sink.json)', function () {
  let bed: TestBed;
  let api: RunningService;
  let name: string;
  let dlqTopic: string;
  const posted = new Map<string, Posted>();
  const products: string[] = [];

  before(async () => {
    bed = await testBed(3);
    // Resolves once start-up is done (the API answers); readiness is on the management port.
    api = await startedService(bed.config, ['api']);
    products.push(...['A', 'B', 'C', 'D'].map((p) => `${bed.tag}-${p}`));
    await putProducts(bed.pool, Object.fromEntries(products.map((p) => [p, 1_000_000])));
    name = `${bed.tag}-sink`;
    dlqTopic = `${bed.tag}-sink.dlq`;
  });
  after(async () => {
    if (name) await deleteConnector(name).catch(() => undefined);
    await api?.stop();
    await bed?.close();
  });

  const url = (path: string) => `http://127.0.0.1:${api.port}${path}`;
  const post = async (path: string, body: unknown): Promise<any> => {
    const response = await fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (response.status !== 202) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };

  /** POSTs `count` orders, `concurrency` at a time, spread over the bed's products and five users. */
  async function postOrders(count: number, concurrency = 16): Promise<void> {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) {
        const userId = `${bed.tag}-u${i % 5}`;
        const body = await post(`/order-service/${userId}/orders`, { productId: products[i % products.length], qty: 1 + (i % 7), unitPrice: 100 });
        posted.set(body.orderId, body as Posted);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  // The sink creates orders_sink with its first write (schema.evolution basic).
  const tableExists = async () => (await bed.pool.query("SELECT to_regclass('orders_sink') IS NOT NULL AS t")).rows[0].t as boolean;
  const rows = async (): Promise<SinkRow[]> =>
    !(await tableExists()) ? [] : (await bed.pool.query<SinkRow>(
      `SELECT order_id::text, user_id, product_id, qty, unit_price, total_price, (extract(epoch FROM created_at) * 1000)::bigint AS created_ms
       FROM orders_sink WHERE user_id LIKE $1`,
      [`${bed.tag}-%`],
    )).rows;

  /** Every posted order has exactly one row, with the event's values; no other row of this test exists. */
  async function expectOneRowPerOrder(): Promise<void> {
    const found = await rows();
    const byId = new Map<string, SinkRow[]>();
    for (const row of found) byId.set(row.order_id, [...(byId.get(row.order_id) ?? []), row]);
    expect([...byId.keys()].filter((id) => !posted.has(id)), 'rows for no posted order (a cancellation or restock written as an order?)').to.deep.equal([]);
    for (const [orderId, order] of posted) {
      const mine = byId.get(orderId) ?? [];
      expect(mine, `rows of order ${orderId}`).to.have.length(1);
      const row = mine[0]!;
      expect({ user: row.user_id, product: row.product_id, qty: row.qty, unit: Number(row.unit_price), total: Number(row.total_price), created: Number(row.created_ms) }, `order ${orderId}`)
        .to.deep.equal({ user: order.userId, product: order.productId, qty: order.qty, unit: order.unitPrice, total: order.totalPrice, created: Date.parse(order.createdAt) });
    }
  }

  const countRows = async () => (await rows()).length;

  async function dlqSize(): Promise<number> {
    const consumer: KafkaConsumer = await createConsumer({ brokers: bed.config.kafka.brokers, groupId: `${bed.tag}-dlq-peek` });
    try {
      const high = await new Promise<number>((resolve, reject) =>
        consumer.queryWatermarkOffsets(dlqTopic, 0, 5000, (err, offsets) => (err ? reject(err) : resolve(offsets.highOffset))),
      );
      return high;
    } finally {
      await disconnect(consumer);
    }
  }

  const committed = (admin: IAdminClient, groupId: string) => new Promise<number>((resolve, reject) =>
    admin.listConsumerGroupOffsets([{ groupId }], { timeout: 5000 }, (err, results) =>
      err ? reject(err) : resolve((results[0]?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0))));

  it('writes each OrderCreated once into orders_sink and skips cancellations and restocks', async () => {
    await postOrders(200);
    // The union's other branches on the same topic: five cancellations of pending orders, a restock.
    const cancelled = [...posted.values()].slice(0, 5);
    for (const order of cancelled) await post(`/order-service/${order.userId}/orders/${order.orderId}/cancel`, { productId: order.productId });
    await post(`/catalog-service/catalogs/${products[0]}/stock`, { add: 10 });

    const { config } = deployedConnector('orders-jdbc-sink.json', {
      topics: bed.config.kafka.ordersTopic,
      'errors.deadletterqueue.topic.name': dlqTopic,
      'errors.deadletterqueue.topic.replication.factor': String(bed.config.kafka.replicationFactor),
    });
    expect(config['collection.name.format'], 'the sink never writes the processor\'s table').to.equal('orders_sink');
    await putConnector(name, config);
    await awaitRunning(name);
    await eventually('every posted order in orders_sink', countRows, (n) => n >= posted.size, 120_000);
    await expectOneRowPerOrder();
    // Upsert by order_id rests on the key the sink created the table with.
    const { rows: key } = await bed.pool.query(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
       WHERE i.indrelid = 'orders_sink'::regclass AND i.indisprimary`,
    );
    expect(key.map((r) => r.attname)).to.deep.equal(['order_id']);
    // The cancellations and the restock were read and dropped by the filter, not dead-lettered.
    expect(await dlqSize(), 'records in the sink\'s dead-letter topic').to.equal(0);
    // The sink's group (connect-<name>, what bench:drain measures) committed past every order. The
    // sink commits what it flushed, so filtered records at a partition's end stay uncommitted (and
    // show as lag) until an order behind them is written: between the orders and all 206 messages.
    const admin = createAdmin({ brokers: bed.config.kafka.brokers });
    try {
      const total = await eventually('the sink group committed every order', () => committed(admin, `connect-${name}`), (n) => n >= posted.size, 30_000, 250);
      expect(total).to.be.at.most(posted.size + 6);
    } finally {
      admin.disconnect();
    }
  });

  it('after a worker SIGKILL mid-stream and a restart, every order is in once', async () => {
    const before = posted.size;
    const posting = postOrders(1500, 8);
    // Kill the worker while it is writing this batch, so some records were written but their
    // offsets not committed: the restarted task receives them again.
    await eventually('part of the new orders written', countRows, (n) => n >= before + 100, 120_000, 20);
    await killWorker();
    await posting;
    await startWorker();
    await awaitRunning(name);
    await eventually('every posted order in orders_sink', countRows, (n) => n >= posted.size, 180_000);
    await expectOneRowPerOrder();
  });

  it('a redelivery of the whole topic rewrites the same rows, one per order', async () => {
    // Mark every row, so the redelivery's writes can be seen: the upsert must restore each qty.
    await stopConnector(name);
    await awaitState(name, 'STOPPED');
    const marked = await bed.pool.query('UPDATE orders_sink SET qty = -1 WHERE user_id LIKE $1', [`${bed.tag}-%`]);
    expect(marked.rowCount).to.equal(posted.size);
    await resetOffsets(name);
    await resumeConnector(name);
    await awaitRunning(name);
    const marks = async () => (await bed.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders_sink WHERE user_id LIKE $1 AND qty = -1', [`${bed.tag}-%`])).rows[0]!.n;
    await eventually('every row rewritten by the redelivery', marks, (n) => n === 0, 180_000);
    await expectOneRowPerOrder();
    expect(await dlqSize()).to.equal(0);
  });
});
