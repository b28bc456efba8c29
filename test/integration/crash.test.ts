// A processor killed with SIGKILL mid-stream (a real child process, no chance to clean up) and
// restarted loses nothing and applies nothing twice.
import { expect } from 'chai';
import { eventually, makeOrder, orderMessage, produceAll, putProducts, stockOf, testBed, totals, type TestBed } from '../support/fixtures.js';
import { envFor, spawnRole, type Child } from '../support/child.js';

describe('processor crash (SIGKILL) and restart', function () {
  let bed: TestBed;
  let child: Child | undefined;
  before(async () => {
    bed = await testBed(6);
  });
  after(async () => {
    child?.process.kill('SIGKILL');
    await bed.close();
  });

  it('loses nothing and applies nothing twice', async () => {
    const plenty = `${bed.tag}-PLENTY`;
    const scarce = `${bed.tag}-SCARCE`;
    await putProducts(bed.pool, { [plenty]: 10_000_000, [scarce]: 5_000 });
    const orders = Array.from({ length: 40_000 }, (_, i) => makeOrder(bed, i % 4 === 0 ? scarce : plenty, 1 + (i % 3)));
    await produceAll(bed, orders.map((o, i) => orderMessage(bed, o, i % 6)));
    // Small batches so the kill lands between many commits, not after one big one.
    const env = envFor(bed.config, { PROCESSOR_BATCH_MAX_MESSAGES: '500' });

    child = spawnRole('processor', env, `${bed.tag}-crash-1`);
    await child.started;
    await eventually('some orders applied', () => totals(bed.pool, bed.tag), (t) => t.orders >= 2_000);
    child.process.kill('SIGKILL');
    await child.exited;
    const afterKill = await totals(bed.pool, bed.tag);
    expect(afterKill.orders, 'killed mid-stream, not after the end').to.be.below(orders.length);

    child = spawnRole('processor', env, `${bed.tag}-crash-2`);
    await child.started;
    // Fewer would be a loss (the wait times out); more cannot be stored (orderId is the primary key),
    // so a double effect can only show in the stock, checked below.
    await eventually('every order applied', () => totals(bed.pool, bed.tag), (t) => t.orders === orders.length, 120_000);
    child.process.kill('SIGTERM');
    expect(await child.exited).to.equal(0);
    child = undefined;

    const stock = await stockOf(bed.pool, [plenty, scarce]);
    const accepted = await bed.pool.query(`SELECT product_id, sum(qty)::int AS qty FROM orders WHERE user_id LIKE $1 AND status = 'ACCEPTED' GROUP BY 1`, [`${bed.tag}%`]);
    const taken = Object.fromEntries(accepted.rows.map((r) => [r.product_id, r.qty]));
    expect(stock[plenty]).to.equal(10_000_000 - taken[plenty]);
    expect(stock[scarce]).to.equal(5_000 - (taken[scarce] ?? 0));
    expect(stock[scarce]).to.be.at.least(0);
    // The plentiful product never runs out, so each of its orders must have been accepted.
    const plentyQty = orders.filter((o) => o.productId === plenty).reduce((sum, o) => sum + o.qty, 0);
    expect(taken[plenty]).to.equal(plentyQty);
  });
});
