// Smoke tests of the foundation against the real stack: registry + native client + wire format,
// topic creation, PostgreSQL, migrations under concurrency.
import { expect } from 'chai';
import avro from 'avsc';
import { stackConfig, unique } from '../support/env.js';
import { consumeExactly } from '../support/consume.js';
import { createAdmin, createConsumer, createProducer, disconnect, type IAdminClient } from '../../src/kafka/clients.js';
import { DeliveryTracker } from '../../src/kafka/delivery.js';
import { describePartitions, ensureTopic } from '../../src/kafka/topics.js';
import { createRegistry, registryRest } from '../../src/serde/registry.js';
import { useContract } from '../../src/serde/contract.js';
import { ORDER_CREATED_SCHEMA, OrderSerde, UnknownSchemaError, valueSubject } from '../../src/serde/order-serde.js';
import { frame } from '../../src/serde/wire.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { migrate } from '../../src/db/migrate.js';
import type { OrderCreated } from '../../src/domain/order.js';

const config = stackConfig();
const kafka = { brokers: config.kafka.brokers };

describe('foundation (real Kafka, Schema Registry, PostgreSQL)', () => {
  let admin: IAdminClient;
  before(() => {
    admin = createAdmin(kafka);
  });
  after(() => admin.disconnect());

  it('registers the order schema, produces with the native client and decodes what it consumes, byte for byte', async () => {
    const topic = unique('smoke-orders');
    await ensureTopic(admin, { topic, partitions: 3, replicationFactor: 1 });
    const serde = new OrderSerde(createRegistry(config.registry), valueSubject(topic));
    const { id: schemaId } = await useContract(serde, registryRest(config.registry));
    expect(schemaId).to.be.a('number').greaterThan(0);

    const order: OrderCreated = {
      orderId: '0b6c6f4e-8f1c-4f7e-9a43-2d4f0c1e5a77',
      userId: 'user-1',
      productId: 'CATALOG-0002',
      qty: 10,
      unitPrice: 900,
      totalPrice: 9000,
      createdAt: Date.UTC(2026, 10, 25, 12, 0, 0),
    };
    const producer = await createProducer(kafka);
    const delivered = await new DeliveryTracker(producer).send({ topic, key: order.productId, value: serde.encode({ type: 'OrderCreated', event: order }) });
    await disconnect(producer);
    expect(delivered.offset).to.equal(0);

    const consumer = await createConsumer({ ...kafka, groupId: unique('smoke') });
    try {
      const [message] = await consumeExactly(consumer, topic, 3, 1);
      const value = message!.value!;
      // Confluent wire format: magic 0, schema id as int32 big-endian, then plain Avro binary — of a
      // union: the branch index as a zig-zag varint (OrderCreated is branch 0: one byte 0x00), then
      // the record.
      expect(value[0]).to.equal(0);
      expect([...value.subarray(1, 5)]).to.deep.equal([(schemaId >>> 24) & 0xff, (schemaId >>> 16) & 0xff, (schemaId >>> 8) & 0xff, schemaId & 0xff]);
      const independent = avro.Type.forSchema(JSON.parse(ORDER_CREATED_SCHEMA) as avro.Schema);
      expect(value[5]).to.equal(0);
      expect(value.subarray(6).equals(independent.toBuffer(order))).to.equal(true);
      expect(message!.key!.toString()).to.equal('CATALOG-0002');
      expect(message!.partition).to.equal(delivered.partition);

      // A fresh serde knows nothing cached: it must fetch the writer schema by id from the registry.
      const reader = new OrderSerde(createRegistry(config.registry), valueSubject(topic));
      await reader.prepare([value]);
      const decoded = reader.decode(value);
      expect(decoded.type).to.equal('OrderCreated');
      expect({ ...decoded.event }).to.deep.equal(order);
    } finally {
      await disconnect(consumer);
    }
  });

  it('reports a schema id the registry does not know as a permanent decode error', async () => {
    const serde = new OrderSerde(createRegistry(config.registry), valueSubject(unique('nobody')));
    const message = frame(987_654_321, Buffer.from([2, 0]));
    await serde.prepare([message]);
    expect(() => serde.decode(message)).to.throw(UnknownSchemaError, /987654321/);
  });

  it('creates a topic once and leaves an existing one alone', async () => {
    const topic = unique('smoke-topic');
    expect(await ensureTopic(admin, { topic, partitions: 4, replicationFactor: 1 })).to.equal('created');
    expect(await ensureTopic(admin, { topic, partitions: 4, replicationFactor: 1 })).to.equal('exists');
    // A different partition count in config never recreates or shrinks the topic.
    expect(await ensureTopic(admin, { topic, partitions: 2, replicationFactor: 1 })).to.equal('exists');
    expect(await describePartitions(admin, topic)).to.equal(4);
  });

  describe('PostgreSQL', () => {
    let pool: Pool;
    before(() => {
      pool = createPool(config.database.url, 4);
    });
    after(() => pool.end());

    it('round-trips a row with parameters, bigint as number', async () => {
      const client = await pool.connect();
      try {
        await client.query('CREATE TEMP TABLE roundtrip (id text PRIMARY KEY, amount bigint)');
        await client.query('INSERT INTO roundtrip VALUES ($1, $2)', ["o'brien; DROP TABLE x", 1_000_000_000_000_000]);
        const { rows } = await client.query('SELECT id, amount FROM roundtrip');
        expect(rows).to.deep.equal([{ id: "o'brien; DROP TABLE x", amount: 1_000_000_000_000_000 }]);
      } finally {
        client.release();
      }
    });

    it('applies each migration once when two starters race', async () => {
      const table = unique('mig').replace(/-/g, '_');
      const counter = `${table}_effects`;
      const migrations = [
        { version: 1, name: 'counter', sql: `CREATE TABLE ${counter} (version integer NOT NULL)` },
        // Not idempotent on purpose: applied twice, it would leave two rows.
        { version: 2, name: 'first effect', sql: `INSERT INTO ${counter} VALUES (2); SELECT pg_sleep(0.2)` },
        { version: 3, name: 'second effect', sql: `INSERT INTO ${counter} VALUES (3)` },
      ];
      const other = createPool(config.database.url, 2);
      try {
        const lockKey = Math.floor(Math.random() * 1e9);
        const [a, b] = await Promise.all([
          migrate(pool, { migrations, table, lockKey }),
          migrate(other, { migrations, table, lockKey }),
        ]);
        expect([...a, ...b].sort()).to.deep.equal([1, 2, 3]);
        expect(a.length === 0 || b.length === 0, 'one starter did all the work').to.equal(true);
        const { rows } = await pool.query(`SELECT version FROM ${counter} ORDER BY version`);
        expect(rows.map((r) => r.version)).to.deep.equal([2, 3]);
        expect(await migrate(pool, { migrations, table, lockKey })).to.deep.equal([]);
      } finally {
        await pool.query(`DROP TABLE IF EXISTS ${counter}, ${table}`);
        await other.end();
      }
    });

    it('applies the product schema', async () => {
      await migrate(pool);
      const { rows } = await pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('orders', 'catalog') ORDER BY 1`);
      expect(rows.map((r) => r.table_name)).to.deep.equal(['catalog', 'orders']);
    });
  });
});
