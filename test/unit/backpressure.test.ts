import { expect } from 'chai';
import { Backpressure } from '../../src/processor/backpressure.js';

const p = (partition: number) => ({ topic: 'orders', partition });
const owned = [p(0), p(1), p(2), p(3)];

describe('backpressure (a full lane pauses its own partitions only)', () => {
  it('pauses the partitions of a lane that holds two batches by count, and only once', () => {
    const flow = new Backpressure(2, 100, 1_000_000);
    flow.added(0, 199, 1990);
    expect(flow.toPause(owned)).to.deep.equal([]);
    flow.added(0, 1, 10);
    // lane 0 holds partitions 0 and 2 (partition % lanes); lane 1 keeps fetching
    expect(flow.toPause(owned)).to.deep.equal([p(0), p(2)]);
    expect(flow.toPause(owned)).to.deep.equal([]);
  });

  it('pauses on two batches by bytes too', () => {
    const flow = new Backpressure(2, 100, 1000);
    flow.added(1, 3, 1999);
    expect(flow.toPause(owned)).to.deep.equal([]);
    flow.added(1, 1, 1);
    expect(flow.toPause(owned)).to.deep.equal([p(1), p(3)]);
  });

  it('resumes a lane once it is down to one batch, with that batch still in hand, not before', () => {
    const flow = new Backpressure(2, 100, 1_000_000);
    flow.added(0, 250, 2500);
    flow.toPause(owned);
    flow.removed(0, 100, 1000);
    expect(flow.toResume(owned)).to.deep.equal([]);
    flow.removed(0, 50, 500);
    expect(flow.toResume(owned)).to.deep.equal([p(0), p(2)]);
    expect(flow.toResume(owned)).to.deep.equal([]);
  });

  it('keeps a lane paused while one batch fits by count but not by bytes', () => {
    const flow = new Backpressure(2, 100, 1000);
    flow.added(0, 10, 2000);
    expect(flow.toPause(owned)).to.deep.equal([p(0), p(2)]);
    flow.removed(0, 5, 900);
    expect(flow.toResume(owned)).to.deep.equal([]);
    flow.removed(0, 1, 100);
    expect(flow.toResume(owned)).to.deep.equal([p(0), p(2)]);
  });

  it('wants messages only while a lane owning a partition holds less than one batch, or nothing is owned yet', () => {
    const flow = new Backpressure(2, 10, 1_000_000);
    expect(flow.hungry([])).to.equal(true);
    expect(flow.hungry(owned)).to.equal(true);
    flow.added(0, 10, 100);
    expect(flow.hungry(owned), 'lane 1 holds nothing').to.equal(true);
    flow.added(1, 9, 90);
    expect(flow.hungry(owned), 'lane 1 is one message short of a batch').to.equal(true);
    flow.added(1, 1, 10);
    expect(flow.hungry(owned), 'both hold their next batch').to.equal(false);
    // Only lanes that own partitions count: lane 1 owns none of these.
    flow.removed(1, 10, 100);
    expect(flow.hungry([p(0), p(2)])).to.equal(false);
    expect(flow.hungry([p(0), p(1)])).to.equal(true);
  });

  it('pauses newly assigned partitions of a paused lane', () => {
    const flow = new Backpressure(2, 10, 1_000_000);
    flow.added(0, 20, 100);
    flow.added(1, 20, 100);
    flow.toPause(owned);
    expect(flow.pausedAmong([p(4), p(5)])).to.deep.equal([p(4), p(5)]);
    flow.removed(1, 10, 50);
    flow.toResume(owned);
    expect(flow.pausedAmong([p(4), p(5)])).to.deep.equal([p(4)]);
  });
});
