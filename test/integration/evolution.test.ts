// Schema evolution under BACKWARD compatibility: a producer on v2 (an added optional field) does
// not break a running v1 processor, a v2 reader still reads v1 data, and an incompatible change is
// refused by the registry before it can reach the topic.
import { expect } from 'chai';
import { eventually, makeOrder, orderMessage, produceAll, putProducts, startProcessor, testBed, totals, type TestBed } from '../support/fixtures.js';
import { createRegistry } from '../../src/serde/registry.js';
import { ORDER_CREATED_SCHEMA, OrderSerde, valueSubject } from '../../src/serde/order-serde.js';
import type { Processor } from '../../src/processor/processor.js';

function withField(field: object): string {
  const schema = JSON.parse(ORDER_CREATED_SCHEMA) as { fields: object[] };
  return JSON.stringify({ ...schema, fields: [...schema.fields, field] });
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

  const v2 = withField({ name: 'couponCode', type: ['null', 'string'], default: null });
  const subject = () => valueSubject(bed.config.kafka.ordersTopic);

  it('registers v2 with an added optional field, and the running v1 processor applies v2 events', async () => {
    const product = `${bed.tag}-E`;
    await putProducts(bed.pool, { [product]: 100 });
    processor = await startProcessor(bed); // reads with v1, the schema in this repository
    const writerV2 = new OrderSerde(createRegistry(bed.config.registry.url), subject(), v2);
    const v2Id = await writerV2.register();
    expect(v2Id).not.to.equal(bed.serde.registeredId);

    const v2Order = { ...makeOrder(bed, product, 2), couponCode: 'WELCOME' };
    const v1Order = makeOrder(bed, product, 3);
    await produceAll(bed, [
      { topic: bed.config.kafka.ordersTopic, key: product, value: writerV2.encode(v2Order) },
      orderMessage(bed, v1Order),
    ]);
    const done = await eventually('both versions applied', () => totals(bed.pool, bed.tag), (t) => t.orders === 2);
    expect(done).to.include({ accepted: 2, acceptedQty: 5 });
  });

  it('reads v1 events with a v2 reader, filling the default', async () => {
    const readerV2 = new OrderSerde(createRegistry(bed.config.registry.url), subject(), v2);
    const v1Message = bed.serde.encode(makeOrder(bed, 'P', 1));
    await readerV2.prepare([v1Message]);
    expect(readerV2.decode(v1Message)).to.include({ couponCode: null, qty: 1 });
  });

  it('refuses an incompatible v3 (a new field without a default)', async () => {
    const v3 = withField({ name: 'warehouse', type: 'string' });
    const writerV3 = new OrderSerde(createRegistry(bed.config.registry.url), subject(), v3);
    let error: unknown;
    try {
      await writerV3.register();
    } catch (err) {
      error = err;
    }
    expect(error, 'registration must fail').to.be.instanceOf(Error);
    expect((error as { status?: number }).status).to.equal(409);
  });
});
