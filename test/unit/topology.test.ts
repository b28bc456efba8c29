import { expect } from 'chai';
import { route, split, isDeadLetter } from '../../src/processor/topology.js';
import { AWAITED_HEADER } from '../../src/domain/verdict.js';
import type { Message } from '../../src/kafka/clients.js';
import type { OrderEvent } from '../../src/domain/order.js';

const order = { orderId: '6f1c1c8e-4b1a-4a55-9d53-3a8f4b1f0b11', userId: 'u1', productId: 'P1', qty: 2, unitPrice: 100, totalPrice: 200, createdAt: 1 };
const message = (value: string, headers?: Message['headers']) => ({ topic: 'orders', partition: 3, offset: 41, size: value.length, value: Buffer.from(value), headers }) as unknown as Message;
const decode = (value: Buffer): OrderEvent => {
  if (value.toString() === 'bad') throw Object.assign(new Error('magic byte is 98, expected 0'), { name: 'WireFormatError' });
  return { type: 'OrderCreated', event: value.toString() === 'neg' ? { ...order, qty: -1 } : order };
};

describe('topology (route one message)', () => {
  it('decodes a message into an event with its source, marked awaited only when the api said a request waits', () => {
    const plain = route(message('ok'), decode);
    expect(plain).to.deep.equal({ type: 'OrderCreated', event: order, partition: 3, offset: 41 });
    const awaited = route(message('ok', [{ other: Buffer.from('x') }, { [AWAITED_HEADER]: Buffer.from('1') }]), decode);
    expect(awaited).to.include({ awaited: true, partition: 3, offset: 41 });
    expect(route(message('ok', [{ other: Buffer.from('x') }]), decode)).to.not.have.property('awaited');
  });

  it('turns undecodable and invalid messages into dead letters that keep the message, and split keeps input order', () => {
    const items = [route(message('bad'), decode), route(message('ok'), decode), route(message('neg'), decode)];
    expect(items.map(isDeadLetter)).to.deep.equal([true, false, true]);
    const { events, deadLetters } = split(items);
    expect(events).to.have.length(1);
    expect(deadLetters.map((d) => d.error)).to.deep.equal(['WireFormatError', 'InvalidField']);
    expect(deadLetters[0]!.message.offset).to.equal(41);
  });
});
