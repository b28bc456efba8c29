import { expect } from 'chai';
import { take } from '../../src/processor/batching.js';
import type { Message } from '../../src/kafka/clients.js';

const messages = (sizes: number[]) => sizes.map((size, offset) => ({ topic: 't', partition: 0, offset, size, value: Buffer.alloc(size) }) as unknown as Message);

describe('batching (take)', () => {
  it('takes from the front up to the count limit and leaves the rest pending, in order', () => {
    const pending = messages([10, 10, 10, 10, 10]);
    const batch = take(pending, 3, 1_000);
    expect(batch.map((m) => m.offset)).to.deep.equal([0, 1, 2]);
    expect(pending.map((m) => m.offset)).to.deep.equal([3, 4]);
  });

  it('stops before the byte limit would be exceeded', () => {
    const pending = messages([40, 40, 40]);
    expect(take(pending, 100, 100).map((m) => m.offset)).to.deep.equal([0, 1]);
    expect(pending).to.have.length(1);
  });

  it('never returns an empty batch while something is pending: one oversized message is a batch', () => {
    const pending = messages([500, 10]);
    expect(take(pending, 100, 100).map((m) => m.offset)).to.deep.equal([0]);
  });

  it('takes everything pending when under both limits, and nothing from an empty lane', () => {
    const pending = messages([1, 2]);
    expect(take(pending, 10, 10)).to.have.length(2);
    expect(take(pending, 10, 10)).to.deep.equal([]);
  });
});
