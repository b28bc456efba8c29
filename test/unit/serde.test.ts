import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { AvroDecodeError, OrderSerde } from '../../src/serde/order-serde.js';
import type { SchemaRegistry } from '../../src/serde/registry.js';
import type { OrderEvent } from '../../src/domain/order.js';

// The serde's own schema id needs no registry call: encode and the hot decode path run offline.
const serde = () => {
  const s = new OrderSerde(undefined as unknown as SchemaRegistry, 'orders-value');
  s.useSchemaId(7);
  return s;
};

const events: OrderEvent[] = [
  { type: 'OrderCreated', event: { orderId: randomUUID(), userId: 'u1', productId: 'P1', qty: 3, unitPrice: 100, totalPrice: 300, createdAt: 1_764_000_000_000 } },
  { type: 'OrderCancelled', event: { cancellationId: randomUUID(), orderId: randomUUID(), userId: 'u1', productId: 'P1', cancelledAt: 1_764_000_000_001 } },
  { type: 'StockAdded', event: { restockId: randomUUID(), productId: 'P1', add: 10, addedAt: 1_764_000_000_002 } },
];

describe('order serde (offline)', () => {
  it('round-trips each of the three event types through the union', () => {
    const s = serde();
    for (const e of events) {
      const decoded = s.decode(s.encode(e));
      expect(decoded.type).to.equal(e.type);
      expect({ ...decoded.event }).to.deep.equal(e.event);
    }
  });

  it('reports a truncated record of our own schema as a decode error (a dead letter), never a bad value', () => {
    const s = serde();
    for (const e of events) {
      const whole = s.encode(e);
      for (const cut of [6, 7, whole.length - 1]) {
        expect(() => s.decode(whole.subarray(0, cut)), `${e.type} cut at ${cut}`).to.throw(AvroDecodeError);
      }
    }
  });

  it('reports a union index our schema does not have as a decode error', () => {
    const s = serde();
    const message = Buffer.from(s.encode(events[0]!));
    message[5] = 6; // branch 3: there are three
    expect(() => s.decode(message)).to.throw(AvroDecodeError);
  });

  it('shares product and user ids between events without changing any, past the bound on how many it keeps', () => {
    const s = serde();
    // 70,000 distinct ids overflow the 65,536 kept (the map starts over); each id is decoded
    // twice, before and after, and every event keeps its own product.
    const ids = Array.from({ length: 70_000 }, (_, i) => `P${i}`);
    const order = (productId: string): OrderEvent => ({ type: 'OrderCreated', event: { ...events[0]!.event, productId, userId: `u-${productId}` } as never });
    for (const pass of [1, 2]) {
      for (const id of ids) {
        const decoded = s.decode(s.encode(order(id))) as Extract<OrderEvent, { type: 'OrderCreated' }>;
        if (decoded.event.productId !== id || decoded.event.userId !== `u-${id}`) expect.fail(`pass ${pass}: ${id} decoded as ${decoded.event.productId}, ${decoded.event.userId}`);
      }
    }
    const restock = s.decode(s.encode(events[2]!));
    expect(restock.event.productId).to.equal('P1');
  });
});
