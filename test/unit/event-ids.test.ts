import { expect } from 'chai';
import { eventIdFor, orderIdFor } from '../../src/api/orders.js';

// The version nibble (RFC 9562): the first hex digit of the third group.
const version = (id: string) => id.split('-')[2]![0];

describe('event ids', () => {
  it('makes a keyless id time-ordered (v7): later ids sort after earlier ones', () => {
    const ids = Array.from({ length: 1000 }, () => eventIdFor(['u1'], undefined));
    expect(new Set(ids.map(version))).to.deep.equal(new Set(['7']));
    expect(new Set(ids).size).to.equal(ids.length);
    // A B-tree appends them in this order: each id is greater than the one before it.
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!, `${ids[i]} after ${ids[i - 1]}`).to.equal(true);
  });

  it('keeps a keyed id name-based (v5): the same user and key give the same id, another user another', () => {
    const id = orderIdFor('u1', 'key-1');
    expect(version(id)).to.equal('5');
    expect(orderIdFor('u1', 'key-1')).to.equal(id);
    expect(orderIdFor('u2', 'key-1')).to.not.equal(id);
    expect(eventIdFor(['u1', 'cancel'], 'key-1')).to.not.equal(id);
  });
});
