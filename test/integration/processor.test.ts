// The processor against real Kafka and PostgreSQL: exactly-once effects under duplicates, replays,
// group splits and contention; poison messages to the DLQ with the stream going on.
import { expect } from 'chai';
import avro from 'avsc';
import { consumeExactly } from '../support/consume.js';
import { eventually, makeOrder, orderMessage, produceAll, putProducts, startProcessor, stockOf, testBed, totals, type TestBed } from '../support/fixtures.js';
import { createConsumer, disconnect } from '../../src/kafka/clients.js';
import { ORDER_CREATED_SCHEMA } from '../../src/serde/order-serde.js';
import { frame } from '../../src/serde/wire.js';
import { DLQ_HEADERS } from '../../src/processor/dlq.js';
import type { Processor } from '../../src/processor/processor.js';

describe('processor (real Kafka and PostgreSQL)', function () {
  let bed: TestBed;
  const running: Processor[] = [];
  beforeEach(async () => {
    bed = await testBed(6);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
    await bed.close();
  });

  it('applies each order once: duplicates in the topic and a full replay from offset 0 change nothing', async () => {
    const products = { [`${bed.tag}-A`]: 50, [`${bed.tag}-B`]: 1000 };
    await putProducts(bed.pool, products);
    const orders = Array.from({ length: 400 }, (_, i) => makeOrder(bed, i % 2 ? `${bed.tag}-A` : `${bed.tag}-B`, 1 + (i % 3)));
    const duplicated = orders.slice(0, 100); // the same events delivered twice
    await produceAll(bed, [...orders, ...duplicated].map((o) => orderMessage(bed, o)));

    let consumed = 0;
    running.push(await startProcessor(bed, (s) => (consumed += s.messages)));
    await eventually('500 messages consumed', async () => consumed, (n) => n === 500);
    const first = await totals(bed.pool, bed.tag);
    const stock = await stockOf(bed.pool, Object.keys(products));
    expect(first.orders).to.equal(400);
    // Stock lost = accepted qty, product by product.
    const acceptedByProduct = await bed.pool.query(`SELECT product_id, sum(qty)::int AS qty FROM orders WHERE user_id LIKE $1 AND status = 'ACCEPTED' GROUP BY 1`, [`${bed.tag}%`]);
    for (const row of acceptedByProduct.rows) expect(stock[row.product_id]).to.equal(products[row.product_id]! - row.qty);
    expect(stock[`${bed.tag}-A`]).to.be.at.least(0);

    // A second group reads the topic again from offset 0: every message is a duplicate now.
    let replayed = 0;
    running.push(await startProcessor(bed, (s) => (replayed += s.messages), `${bed.tag}-replay`));
    await eventually('replay of 500 messages', async () => replayed, (n) => n === 500);
    expect(await totals(bed.pool, bed.tag)).to.deep.equal(first);
    expect(await stockOf(bed.pool, Object.keys(products))).to.deep.equal(stock);
  });

  it('re-plans a batch when a replayed order had taken the stock a later order needs', async () => {
    const product = `${bed.tag}-R`;
    await putProducts(bed.pool, { [product]: 2 });
    const first = makeOrder(bed, product, 2);
    await produceAll(bed, [orderMessage(bed, first, 0)]);
    let consumed = 0;
    const early = await startProcessor(bed, (s) => (consumed += s.messages));
    await eventually('first order applied', async () => consumed, (n) => n === 1);
    await early.stop();
    await putProducts(bed.pool, { [product]: 2 }); // restock: 2 left, exactly what the next order needs

    // One batch: the replayed first order, then a new order of the same product.
    const second = makeOrder(bed, product, 2);
    await produceAll(bed, [orderMessage(bed, first, 0), orderMessage(bed, second, 0)]);
    let replayed = 0;
    running.push(await startProcessor(bed, (s) => (replayed += s.messages)));
    await eventually('both messages consumed', async () => replayed, (n) => n === 2);
    const { rows } = await bed.pool.query('SELECT order_id::text, status, reason FROM orders WHERE order_id = ANY($1::uuid[]) ORDER BY created_at', [[first.orderId, second.orderId]]);
    expect(rows).to.deep.equal([
      { order_id: first.orderId, status: 'ACCEPTED', reason: null },
      { order_id: second.orderId, status: 'ACCEPTED', reason: null },
    ]);
    expect(await stockOf(bed.pool, [product])).to.deep.equal({ [product]: 0 });
  });

  it('splits the partitions between two processors of one group, totals exact', async () => {
    const product = `${bed.tag}-P`;
    await putProducts(bed.pool, { [product]: 1_000_000 });
    const a = await startProcessor(bed);
    const b = await startProcessor(bed);
    running.push(a, b);
    await eventually('both processors assigned', async () => [a.assignedPartitions.length, b.assignedPartitions.length], ([x, y]) => x! > 0 && y! > 0 && x! + y! === 6);
    expect(a.assignedPartitions.filter((p) => b.assignedPartitions.includes(p))).to.deep.equal([]);

    const orders = Array.from({ length: 3000 }, (_, i) => makeOrder(bed, product, 1 + (i % 5)));
    await produceAll(bed, orders.map((o, i) => orderMessage(bed, o, i % 6)));
    const expectedQty = orders.reduce((sum, o) => sum + o.qty, 0);
    const done = await eventually('3000 orders applied', () => totals(bed.pool, bed.tag), (t) => t.orders === 3000);
    expect(done).to.deep.equal({ orders: 3000, accepted: 3000, acceptedQty: expectedQty, rejected: 0 });
    expect(await stockOf(bed.pool, [product])).to.deep.equal({ [product]: 1_000_000 - expectedQty });
  });

  it('never takes a hot product below zero when it is ordered from every partition at once', async () => {
    const product = `${bed.tag}-HOT`;
    await putProducts(bed.pool, { [product]: 100 });
    const [a, b] = [await startProcessor(bed), await startProcessor(bed)];
    running.push(a, b);
    // Both replicas own partitions, so the product's orders are applied by two of them at once.
    await eventually('both processors assigned', async () => a.assignedPartitions.length * b.assignedPartitions.length, (n) => n > 0);
    const orders = Array.from({ length: 600 }, () => makeOrder(bed, product, 1));
    await produceAll(bed, orders.map((o, i) => orderMessage(bed, o, i % 6)));
    const done = await eventually('600 orders decided', () => totals(bed.pool, bed.tag), (t) => t.orders === 600);
    expect(done).to.include({ accepted: 100, acceptedQty: 100, rejected: 500 });
    expect(await stockOf(bed.pool, [product])).to.deep.equal({ [product]: 0 });
    const reasons = await bed.pool.query(`SELECT DISTINCT reason FROM orders WHERE user_id LIKE $1 AND status = 'REJECTED'`, [`${bed.tag}%`]);
    expect(reasons.rows).to.deep.equal([{ reason: 'OUT_OF_STOCK' }]);
  });

  it('sends garbage, unknown schema ids and invalid values to the DLQ with reasons, and applies the valid orders around them', async () => {
    const product = `${bed.tag}-D`;
    await putProducts(bed.pool, { [product]: 1000 });
    const type = avro.Type.forSchema(JSON.parse(ORDER_CREATED_SCHEMA) as avro.Schema);
    const negative = { ...makeOrder(bed, product, 1), qty: -5, totalPrice: -500 };
    const poison = [
      { value: Buffer.from('this is not avro'), reason: /magic byte/, error: 'WireFormatError' },
      { value: frame(2_000_000_000, type.toBuffer(makeOrder(bed, product, 1))), reason: /schema id 2000000000/, error: 'UnknownSchemaError' },
      { value: bed.serde.encode({ type: 'OrderCreated', event: negative }), reason: /qty -5/, error: 'InvalidField' },
      { value: frame(bed.serde.registeredId, Buffer.from([0xff, 0xff])), reason: /not a record/, error: 'AvroDecodeError' },
    ];
    const valid = Array.from({ length: 20 }, () => makeOrder(bed, product, 2));
    const messages = [
      orderMessage(bed, valid[0]!, 0),
      ...poison.map((p) => ({ topic: bed.config.kafka.ordersTopic, key: product, value: p.value, partition: 0, headers: [{ origin: 'test' }] })),
      ...valid.slice(1).map((o) => orderMessage(bed, o, 0)),
    ];
    await produceAll(bed, messages);
    running.push(await startProcessor(bed));

    const done = await eventually('valid orders applied', () => totals(bed.pool, bed.tag), (t) => t.orders === 20);
    expect(done).to.deep.equal({ orders: 20, accepted: 20, acceptedQty: 40, rejected: 0 });

    const consumer = await createConsumer({ brokers: bed.config.kafka.brokers, groupId: `${bed.tag}-dlq-reader` });
    try {
      const letters = await consumeExactly(consumer, bed.config.kafka.dlqTopic, 6, poison.length);
      letters.sort((x, y) => Number(header(x, DLQ_HEADERS.offset)) - Number(header(y, DLQ_HEADERS.offset)));
      letters.forEach((letter, i) => {
        expect(letter.value!.equals(poison[i]!.value), 'byte-for-byte copy').to.equal(true);
        expect(letter.key!.toString()).to.equal(product);
        expect(header(letter, DLQ_HEADERS.reason)).to.match(poison[i]!.reason);
        expect(header(letter, DLQ_HEADERS.error)).to.equal(poison[i]!.error);
        expect(header(letter, DLQ_HEADERS.topic)).to.equal(bed.config.kafka.ordersTopic);
        expect(header(letter, DLQ_HEADERS.partition)).to.equal('0');
        expect(header(letter, DLQ_HEADERS.offset)).to.equal(String(i + 1));
        expect(header(letter, 'origin')).to.equal('test');
      });
    } finally {
      await disconnect(consumer);
    }
  });
});

function header(message: { headers?: Array<Record<string, string | Buffer>> }, name: string): string | undefined {
  for (const h of message.headers ?? []) if (name in h) return String(h[name]);
  return undefined;
}
