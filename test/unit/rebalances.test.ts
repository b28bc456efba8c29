import { expect } from 'chai';
import { Rebalances } from '../../src/processor/rebalances.js';

const p = (partition: number) => ({ topic: 'orders', partition });
const m = (partition: number, offset: number) => ({ topic: 'orders', partition, offset });

describe('rebalances (which fetched messages are still ours)', () => {
  it('tracks the assignment through incremental assignments and revocations', () => {
    const r = new Rebalances();
    r.assigned([p(0), p(1), p(2)]);
    r.revoked([p(1)]);
    r.assigned([p(5)]);
    expect(r.assignment).to.deep.equal(['orders/0', 'orders/2', 'orders/5']);
  });

  it('unassigns at once when no consume call is in flight, and keeps every message after', () => {
    const r = new Rebalances();
    r.assigned([p(0), p(1)]);
    expect(r.revoked([p(1)])).to.deep.equal([p(1)]);
    r.consuming();
    const messages = [m(0, 7), m(0, 8)];
    expect(r.returned(messages)).to.deep.equal({ kept: messages, unassign: [] });
  });

  it('holds a revocation back while a consume call is in flight, then drops that call\'s messages of the revoked partition', () => {
    const r = new Rebalances();
    r.assigned([p(0), p(1)]);
    r.consuming();
    // The worker thread fetched partition 1's offsets 20-21 before the revocation reached us: the
    // pending 10-19 were dropped, so applying 20-21 and committing 22 would skip 10-19.
    expect(r.revoked([p(1)]), 'nothing to unassign yet').to.deep.equal([]);
    const { kept, unassign } = r.returned([m(0, 5), m(1, 20), m(0, 6), m(1, 21)]);
    expect(kept).to.deep.equal([m(0, 5), m(0, 6)]);
    expect(unassign).to.deep.equal([p(1)]);
  });

  it('gathers every revocation of one call and carries each out once', () => {
    const r = new Rebalances();
    r.assigned([p(0), p(1), p(2)]);
    r.consuming();
    r.revoked([p(1)]);
    r.revoked([p(2)]);
    const first = r.returned([m(1, 3), m(2, 4), m(0, 1)]);
    expect(first.kept).to.deep.equal([m(0, 1)]);
    expect(first.unassign).to.deep.equal([p(1), p(2)]);
    r.consuming();
    expect(r.returned([m(0, 2)]), 'the next call').to.deep.equal({ kept: [m(0, 2)], unassign: [] });
  });

  it('keeps a partition assigned again after the call: messages of a later call are the new assignment\'s', () => {
    const r = new Rebalances();
    r.assigned([p(0)]);
    r.consuming();
    r.revoked([p(0)]);
    expect(r.returned([m(0, 50)]).kept).to.deep.equal([]);
    r.assigned([p(0)]);
    r.consuming();
    expect(r.returned([m(0, 40)]).kept, 'refetched from the committed offset').to.deep.equal([m(0, 40)]);
  });
});
