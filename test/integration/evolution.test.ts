// Schema evolution under BACKWARD compatibility (subject <topic>-value, TopicNameStrategy):
// - the topic's first contract was a bare OrderCreated record; the union of three event types that
//   replaced it is accepted by the registry as BACKWARD compatible, and a processor on the union
//   applies records written with either;
// - a producer on a newer union (an added optional field) does not break a running processor, and
//   a newer reader still reads today's data;
// - incompatible changes (a new field without a default, a dropped event type) are refused by the
//   registry before they can reach the topic.
import { expect } from 'chai';
import avro from 'avsc';
import { eventually, makeOrder, orderMessage, produceAll, putProducts, startProcessor, stockOf, testBed, totals, type TestBed } from '../support/fixtures.js';
import { createRegistry, registryRest } from '../../src/serde/registry.js';
import { registerContract, useContract } from '../../src/serde/contract.js';
import { ORDER_CREATED_SCHEMA, ORDER_EVENTS_SCHEMA, OrderSerde, valueSubject } from '../../src/serde/order-serde.js';
import { frame } from '../../src/serde/wire.js';
import type { Processor } from '../../src/processor/processor.js';

type Union = Array<{ name: string; fields: object[] }>;

/** The union with `field` added to its OrderCreated record. */
function withField(field: object): string {
  const union = JSON.parse(ORDER_EVENTS_SCHEMA) as Union;
  return JSON.stringify(union.map((r) => (r.name === 'OrderCreated' ? { ...r, fields: [...r.fields, field] } : r)));
}

async function registrationError(serde: OrderSerde, bed: TestBed): Promise<{ status?: number } | undefined> {
  try {
    await registerContract({ rest: registryRest(bed.config.registry), subject: serde.subjectName, schema: serde.schemaText });
    return undefined;
  } catch (err) {
    return err as { status?: number };
  }
}

describe('schema evolution (real registry)', () => {
  let bed: TestBed;
  let processor: Processor | undefined;
  before(async () => {
    bed = await testBed(2);
  });
  after(async () => {
    await processor?.stop();
    await bed.close();
  });

  const subject = () => valueSubject(bed.config.kafka.ordersTopic);

  it('accepts the three-event union after the bare OrderCreated record, and applies records of both', async () => {
    const product = `${bed.tag}-H`;
    await putProducts(bed.pool, { [product]: 100 });
    // A subject as it was before the union: the v1 record alone, with a message written with it.
    const history = `${bed.tag}-history-value`;
    const v1 = new OrderSerde(createRegistry(bed.config.registry), history, ORDER_CREATED_SCHEMA);
    const { id: v1Id } = await useContract(v1, registryRest(bed.config.registry));
    const old = makeOrder(bed, product, 4);
    const oldMessage = frame(v1Id, avro.Type.forSchema(JSON.parse(ORDER_CREATED_SCHEMA) as avro.Schema).toBuffer(old));
    // The union registers on top of it: the registry's own BACKWARD check passes.
    const union = new OrderSerde(createRegistry(bed.config.registry), history);
    const { id: unionId } = await useContract(union, registryRest(bed.config.registry));
    expect(unionId).not.to.equal(v1Id);

    processor = await startProcessor(bed);
    await produceAll(bed, [
      { topic: bed.config.kafka.ordersTopic, key: product, value: oldMessage },
      { topic: bed.config.kafka.ordersTopic, key: product, value: union.encode({ type: 'StockAdded', event: { restockId: crypto.randomUUID(), productId: product, add: 10, addedAt: Date.now() } }) },
      orderMessage(bed, makeOrder(bed, product, 5)),
    ]);
    const done = await eventually('old and new records applied', () => totals(bed.pool, bed.tag), (t) => t.orders === 2);
    expect(done).to.include({ accepted: 2, acceptedQty: 9 });
    expect(await eventually('restock applied', () => stockOf(bed.pool, [product]), (s) => s[product] === 101)).to.deep.equal({ [product]: 101 });
  });

  it('registers a union with an added optional field, and the running processor applies its events', async () => {
    const product = `${bed.tag}-E`;
    await putProducts(bed.pool, { [product]: 100 });
    processor ??= await startProcessor(bed);
    const writerV2 = new OrderSerde(createRegistry(bed.config.registry), subject(), withField({ name: 'couponCode', type: ['null', 'string'], default: null }));
    const { id: v2Id } = await useContract(writerV2, registryRest(bed.config.registry));
    expect(v2Id).not.to.equal(bed.serde.registeredId);

    const before = await totals(bed.pool, bed.tag);
    const v2Order = { ...makeOrder(bed, product, 2), couponCode: 'WELCOME' };
    await produceAll(bed, [
      { topic: bed.config.kafka.ordersTopic, key: product, value: writerV2.encode({ type: 'OrderCreated', event: v2Order }) },
      orderMessage(bed, makeOrder(bed, product, 3)),
    ]);
    const done = await eventually('both versions applied', () => totals(bed.pool, bed.tag), (t) => t.orders === before.orders + 2);
    expect(done.acceptedQty - before.acceptedQty).to.equal(5);
  });

  it('reads records of today\'s union with a newer reader, filling the default', async () => {
    const readerV2 = new OrderSerde(createRegistry(bed.config.registry), subject(), withField({ name: 'couponCode', type: ['null', 'string'], default: null }));
    const message = bed.serde.encode({ type: 'OrderCreated', event: makeOrder(bed, 'P', 1) });
    await readerV2.prepare([message]);
    const decoded = readerV2.decode(message);
    expect(decoded.type).to.equal('OrderCreated');
    expect(decoded.event).to.include({ couponCode: null, qty: 1 });
  });

  it('refuses a new field without a default', async () => {
    const writer = new OrderSerde(createRegistry(bed.config.registry), subject(), withField({ name: 'warehouse', type: 'string' }));
    expect((await registrationError(writer, bed))?.status).to.equal(409);
  });

  it('refuses dropping an event type the topic may hold', async () => {
    const union = (JSON.parse(ORDER_EVENTS_SCHEMA) as Union).filter((r) => r.name !== 'StockAdded');
    const writer = new OrderSerde(createRegistry(bed.config.registry), subject(), JSON.stringify(union));
    expect((await registrationError(writer, bed))?.status).to.equal(409);
  });
});
