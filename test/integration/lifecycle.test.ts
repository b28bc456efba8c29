// The order lifecycle through the stream, end to end on the real stack: cancellation with restock,
// restock deltas, the price check — every stock change on the product's partition, exactly once.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { testBed, putProducts, eventually, stockOf, type TestBed } from '../support/fixtures.js';
import { startedService, type RunningService } from '../support/service.js';

const json = { 'content-type': 'application/json' };
// Response bodies are checked field by field below; `any` keeps those assertions readable.
const read = async (response: Response | Promise<Response>): Promise<{ status: number; body: any }> => {
  const r = await response;
  return { status: r.status, body: await r.json() };
};

function client(svc: () => RunningService) {
  const url = (path: string) => `http://127.0.0.1:${svc().port}${path}`;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    // No body, no content-type: what `curl -X POST` sends.
    read(fetch(url(path), body === undefined ? { method: 'POST', headers } : { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(body) }));
  return {
    url,
    order: (userId: string, body: unknown, headers: Record<string, string> = {}) => post(`/order-service/${userId}/orders`, body, headers),
    cancel: (userId: string, orderId: string, headers: Record<string, string> = {}, body?: unknown) => post(`/order-service/${userId}/orders/${orderId}/cancel`, body, headers),
    restock: (productId: string, body: unknown, headers: Record<string, string> = {}) => post(`/catalog-service/catalogs/${productId}/stock`, body, headers),
    get: (path: string) => read(fetch(url(path))),
  };
}
const wait = { prefer: 'wait=10' };
/** A role answers orders once it is ready (it listens first, then looks its schema id up). */
const ready = (svc: RunningService) => eventually(`${svc.managementPort} ready`, async () => (await fetch(`http://127.0.0.1:${svc.managementPort}/readyz`)).status, (s) => s === 200);

describe('order lifecycle (api + processor, real stack)', () => {
  let bed: TestBed;
  let api: RunningService;
  let processor: RunningService;
  const c = client(() => api);

  before(async () => {
    bed = await testBed(3);
    [api, processor] = await Promise.all([startedService(bed.config, ['api']), startedService(bed.config, ['processor'])]);
    await Promise.all([ready(api), ready(processor)]);
  });
  after(async () => {
    await Promise.all([api, processor].map((s) => s?.stop()));
    await bed.close();
  });

  it('cancels an ACCEPTED order: its qty goes back to stock once; a second cancellation is refused, a retry answered the same', async () => {
    const product = `${bed.tag}-C`;
    const user = `${bed.tag}-u1`;
    await putProducts(bed.pool, { [product]: 10 });
    const placed = await c.order(user, { productId: product, qty: 4, unitPrice: 100 }, wait);
    expect(placed).to.nested.include({ status: 201, 'body.status': 'ACCEPTED' });
    expect(await stockOf(bed.pool, [product])).to.deep.equal({ [product]: 6 });

    const cancelled = await c.cancel(user, placed.body.orderId, { ...wait, 'idempotency-key': 'undo-1' });
    expect(cancelled.status).to.equal(200);
    expect(cancelled.body).to.include({ orderId: placed.body.orderId, status: 'CANCELLED', qty: 4 });
    expect(Date.parse(cancelled.body.cancelledAt)).to.be.closeTo(Date.now(), 60_000);
    expect(await stockOf(bed.pool, [product])).to.deep.equal({ [product]: 10 });

    const again = await c.cancel(user, placed.body.orderId, { ...wait, 'idempotency-key': 'undo-1' });
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal(cancelled.body);
    const second = await c.cancel(user, placed.body.orderId, wait);
    expect(second).to.nested.include({ status: 409, 'body.reason': 'ALREADY_CANCELLED' });
    expect(await stockOf(bed.pool, [product])).to.deep.equal({ [product]: 10 });

    const one = await c.get(`/order-service/${user}/orders/${placed.body.orderId}`);
    expect(one.body).to.include({ status: 'CANCELLED', cancelledAt: cancelled.body.cancelledAt });
    const list = await c.get(`/order-service/${user}/orders`);
    expect(list.body.map((o: { status: string }) => o.status)).to.deep.equal(['CANCELLED']);
  });

  it('refuses to cancel a REJECTED order (nothing to give back), and answers 404 for unknown or other users\' orders', async () => {
    const product = `${bed.tag}-R`;
    const user = `${bed.tag}-u2`;
    await putProducts(bed.pool, { [product]: 1 });
    const rejected = await c.order(user, { productId: product, qty: 5, unitPrice: 100 }, wait);
    expect(rejected.body).to.include({ status: 'REJECTED', reason: 'OUT_OF_STOCK' });
    expect(await c.cancel(user, rejected.body.orderId, wait)).to.nested.include({ status: 409, 'body.reason': 'NOT_ACCEPTED' });

    const accepted = await c.order(user, { productId: product, qty: 1, unitPrice: 100 }, wait);
    expect(accepted.body.status).to.equal('ACCEPTED');
    expect((await c.cancel(`${bed.tag}-someone-else`, accepted.body.orderId, wait)).status).to.equal(404);
    expect((await c.cancel(user, randomUUID(), wait)).status).to.equal(404);
    // An unknown order named with a product goes through the stream and is refused there.
    expect((await c.cancel(user, randomUUID(), wait, { productId: product })).status).to.equal(404);
    expect(await stockOf(bed.pool, [product])).to.deep.equal({ [product]: 0 });
  });

  it('adds stock through the stream: a refused quantity is accepted after a restock, and a retried restock adds once', async () => {
    const product = `${bed.tag}-S`;
    const user = `${bed.tag}-u3`;
    await putProducts(bed.pool, { [product]: 5 });
    expect((await c.order(user, { productId: product, qty: 8, unitPrice: 100 }, wait)).body).to.include({ status: 'REJECTED', reason: 'OUT_OF_STOCK' });

    const restocked = await c.restock(product, { add: 10 }, { ...wait, 'idempotency-key': 'delivery-42' });
    expect(restocked.status).to.equal(200);
    expect(restocked.body).to.include({ productId: product, add: 10, status: 'STOCKED', stock: 15 });
    const retried = await c.restock(product, { add: 10 }, { ...wait, 'idempotency-key': 'delivery-42' });
    expect(retried.body).to.include({ restockId: restocked.body.restockId, status: 'STOCKED' });
    expect(await stockOf(bed.pool, [product])).to.deep.equal({ [product]: 15 });

    expect((await c.order(user, { productId: product, qty: 8, unitPrice: 100 }, wait)).body.status).to.equal('ACCEPTED');
    expect(await stockOf(bed.pool, [product])).to.deep.equal({ [product]: 7 });

    const pending = await c.restock(product, { add: 3 });
    expect(pending.status).to.equal(202);
    expect(pending.body).to.include({ status: 'PENDING', add: 3 });
    await eventually('restock applied', () => stockOf(bed.pool, [product]), (s) => s[product] === 10);
  });

  it('answers 404 for a restock of an unknown product and 400 for a bad quantity', async () => {
    expect((await c.restock(`${bed.tag}-nothing`, { add: 1 }, wait)).status).to.equal(404);
    const product = `${bed.tag}-B`;
    await putProducts(bed.pool, { [product]: 1 });
    for (const add of [0, -1, '5', 1.5, 2_000_000_000]) {
      const bad = await c.restock(product, { add });
      expect(bad.status, `add ${JSON.stringify(add)}`).to.equal(400);
      expect(bad.body.field).to.equal('add');
    }
    expect((await c.restock(product, { add: 1, more: true })).status).to.equal(400);
  });

  it('refuses an order whose unitPrice is not the catalog\'s (PRICE_MISMATCH), so totalPrice is always a price offered', async () => {
    const product = `${bed.tag}-P`;
    await putProducts(bed.pool, { [product]: 100 }, 1500);
    const cheap = await c.order(`${bed.tag}-u4`, { productId: product, qty: 10, unitPrice: 900 }, wait);
    expect(cheap.body).to.include({ status: 'REJECTED', reason: 'PRICE_MISMATCH' });
    const fair = await c.order(`${bed.tag}-u4`, { productId: product, qty: 10, unitPrice: 1500 }, wait);
    expect(fair.body).to.include({ status: 'ACCEPTED', totalPrice: 15000 });
    expect(await stockOf(bed.pool, [product])).to.deep.equal({ [product]: 90 });
  });
});

describe('cancelling a PENDING order (no processor running yet)', () => {
  let bed: TestBed;
  let api: RunningService;
  let processor: RunningService | undefined;
  const c = client(() => api);

  before(async () => {
    bed = await testBed(3);
    api = await startedService(bed.config, ['api']);
    await ready(api);
  });
  after(async () => {
    await Promise.all([api, processor].map((s) => s?.stop()));
    await bed.close();
  });

  it('routes a cancellation that names the productId behind the creation; the processor applies both in order', async () => {
    const product = `${bed.tag}-Q`;
    const user = `${bed.tag}-u5`;
    await putProducts(bed.pool, { [product]: 10 });
    const placed = await c.order(user, { productId: product, qty: 3, unitPrice: 100 });
    expect(placed.status).to.equal(202);
    // Not applied yet: without its productId the api cannot route the cancellation.
    const unnamed = await c.cancel(user, placed.body.orderId);
    expect(unnamed.status).to.equal(404);
    expect(unnamed.body.message).to.match(/productId/);
    const queued = await c.cancel(user, placed.body.orderId, {}, { productId: product });
    expect(queued.status).to.equal(202);
    expect(queued.body).to.include({ orderId: placed.body.orderId, productId: product, status: 'PENDING' });

    processor = await startedService(bed.config, ['processor']);
    const order = await eventually('order applied and cancelled', async () => (await c.get(`/order-service/${user}/orders/${placed.body.orderId}`)).body, (o) => o.status === 'CANCELLED');
    expect(order).to.include({ qty: 3 });
    expect(await stockOf(bed.pool, [product])).to.deep.equal({ [product]: 10 });
  });
});
