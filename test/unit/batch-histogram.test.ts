import { expect } from 'chai';
import client from 'prom-client';
import { BatchHistogram } from '../../src/metrics/batch-histogram.js';

// prom-client's own Histogram, fed the same values one by one, is the oracle: the exposition
// text must be the same, series for series.
const BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

function pair() {
  const ours = new client.Registry();
  const theirs = new client.Registry();
  for (const r of [ours, theirs]) r.setDefaultLabels({ role: 'processor' });
  const batch = new BatchHistogram('t_seconds', 'help text', BUCKETS, [ours]);
  const reference = new client.Histogram({ name: 't_seconds', help: 'help text', buckets: BUCKETS, registers: [theirs] });
  return { batch, reference, text: async () => [await ours.metrics(), await theirs.metrics()] };
}

describe('BatchHistogram', () => {
  it('exposes zeros before any observation, like prom-client', async () => {
    const { text } = pair();
    const [a, b] = await text();
    expect(a).to.equal(b);
    expect(a).to.include('t_seconds_count{role="processor"} 0');
  });

  it('counts a batch as prom-client counts the same values one by one: bounds inclusive, +Inf, sum and count', async () => {
    const { batch, reference, text } = pair();
    const values = [0, 0.01, 0.0100001, 0.05, 0.3, 1, 2.5, 2.6, 400, ...Array.from({ length: 500 }, (_, i) => (i * 7919) % 3000 / 1000)];
    batch.observeEach(values, (v) => v);
    batch.observeEach([0.2], (v) => v);
    for (const v of [...values, 0.2]) reference.observe(v);
    const [a, b] = await text();
    expect(a).to.equal(b);
    expect(a).to.include(`t_seconds_count{role="processor"} ${values.length + 1}`);
    const atMostOneCentisecond = [...values, 0.2].filter((v) => v <= 0.01).length;
    expect(atMostOneCentisecond).to.be.greaterThan(1);
    expect(a).to.include(`t_seconds_bucket{le="0.01",role="processor"} ${atMostOneCentisecond}`);
  });

  it('refuses a value that is not a finite number, keeping those before it, and reset() starts again from zero', async () => {
    const { batch, reference, text } = pair();
    expect(() => batch.observeEach([1, Number.NaN, 2], (v) => v)).to.throw(TypeError);
    reference.observe(1);
    expect(() => reference.observe(Number.NaN)).to.throw();
    const [observed, expected] = await text();
    expect(observed).to.equal(expected);
    expect(observed).to.include('t_seconds_count{role="processor"} 1');
    batch.reset();
    const [untouched] = await pair().text();
    expect((await text())[0]).to.equal(untouched);
  });
});
