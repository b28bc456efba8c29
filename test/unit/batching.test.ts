import { expect } from 'chai';
import { take } from '../../src/processor/batching.js';

const lane = (sizes: number[]) => ({ items: sizes.map((_, offset) => offset), sizes: [...sizes] });

describe('batching (take)', () => {
  it('takes from the front up to the count limit and leaves the rest pending, in order, sizes with them', () => {
    const pending = lane([10, 11, 12, 13, 14]);
    const batch = take(pending.items, pending.sizes, 3, 1_000);
    expect(batch).to.deep.equal({ items: [0, 1, 2], bytes: 33 });
    expect(pending).to.deep.equal({ items: [3, 4], sizes: [13, 14] });
  });

  it('stops before the byte limit would be exceeded', () => {
    const pending = lane([40, 40, 40]);
    expect(take(pending.items, pending.sizes, 100, 100)).to.deep.equal({ items: [0, 1], bytes: 80 });
    expect(pending.items).to.have.length(1);
  });

  it('never returns an empty batch while something is pending: one oversized message is a batch', () => {
    const pending = lane([500, 10]);
    expect(take(pending.items, pending.sizes, 100, 100)).to.deep.equal({ items: [0], bytes: 500 });
  });

  it('takes everything pending when under both limits, and nothing from an empty lane', () => {
    const pending = lane([1, 2]);
    expect(take(pending.items, pending.sizes, 10, 10).items).to.have.length(2);
    expect(take(pending.items, pending.sizes, 10, 10)).to.deep.equal({ items: [], bytes: 0 });
  });
});
