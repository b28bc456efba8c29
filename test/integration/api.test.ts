// The api role end to end on the real stack: two api replicas and a processor, in process.
import { expect } from 'chai';
import { testBed, putProducts, eventually, totals, type TestBed } from '../support/fixtures.js';
import { startedService, type RunningService } from '../support/service.js';
import { createAdmin } from '../../src/kafka/clients.js';

const json = { 'content-type': 'application/json' };
// Response bodies are checked field by field below; `any` keeps those assertions readable.
const read = async (response: Response | Promise<Response>): Promise<any> => (await response).json();

describe('order API (two replicas + processor, real stack)', function () {
  let bed: TestBed;
  let apiA: RunningService;
  let apiB: RunningService;
  let processor: RunningService;
  const url = (svc: RunningService, path: string) => `http://127.0.0.1:${svc.port}${path}`;
  const post = (svc: RunningService, userId: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url(svc, `/order-service/${userId}/orders`), { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(body) });

  before(async () => {
    bed = await testBed(3);
    [apiA, apiB, processor] = await Promise.all([
      startedService(bed.config, ['api']),
      startedService(bed.config, ['api']),
      startedService(bed.config, ['processor']),
    ]);
    await eventually('processor ready', async () => (await fetch(`http://127.0.0.1:${processor.managementPort}/readyz`)).status, (s) => s === 200);
  });
  after(async () => {
    await Promise.all([apiA, apiB, processor].map((s) => s?.stop()));
    await bed.close();
  });

  it("serves the notes' scenario: three orders of one user via two replicas in turn, the same list on either", async () => {
    const user = `${bed.tag}-notes`;
    const [p2, p7, p9] = ['CATALOG-0002', 'CATALOG-0007', 'CATALOG-0009'].map((p) => `${bed.tag}-${p}`);
    await putProducts(bed.pool, { [p2!]: 100, [p7!]: 100, [p9!]: 100 }, 900);
    const answers = [];
    for (const [i, productId] of [p2, p7, p9].entries()) {
      const response = await post(i % 2 ? apiB : apiA, user, { productId, qty: 10, unitPrice: 900 });
      expect(response.status).to.equal(202);
      const body = await read(response);
      expect(body).to.include({ productId, qty: 10, unitPrice: 900, totalPrice: 9000, userId: user, status: 'PENDING' });
      expect(body.orderId).to.match(/^[0-9a-f-]{36}$/);
      expect(Date.parse(body.createdAt)).to.be.closeTo(Date.now(), 60_000);
      answers.push(body);
    }
    const listA = await eventually('three orders listed', async () => read(fetch(url(apiA, `/order-service/${user}/orders`))), (l) => l.length === 3);
    const listB = await read(fetch(url(apiB, `/order-service/${user}/orders`)));
    expect(listB).to.deep.equal(listA);
    expect(listA.map((o: { orderId: string }) => o.orderId)).to.deep.equal(answers.map((a) => a.orderId)); // oldest first
    expect(listA.every((o: { status: string }) => o.status === 'ACCEPTED')).to.equal(true);
    const stock = await read(fetch(url(apiB, `/catalog-service/catalogs/${p7}`)));
    expect(stock).to.include({ productId: p7, stock: 90 });
  });

  it('answers Prefer: wait with the verdict: ACCEPTED, OUT_OF_STOCK, UNKNOWN_PRODUCT', async () => {
    const product = `${bed.tag}-W`;
    await putProducts(bed.pool, { [product]: 5 });
    const user = `${bed.tag}-wait`;
    const wait = { prefer: 'wait=10' };
    const accepted = await post(apiA, user, { productId: product, qty: 5, unitPrice: 100 }, wait);
    expect(accepted.status).to.equal(201);
    expect(accepted.headers.get('preference-applied')).to.equal('wait=10');
    expect(await read(accepted)).to.include({ status: 'ACCEPTED', totalPrice: 500 });
    const outOfStock = await post(apiB, user, { productId: product, qty: 1, unitPrice: 100 }, wait);
    expect(outOfStock.status).to.equal(201);
    expect(await read(outOfStock)).to.include({ status: 'REJECTED', reason: 'OUT_OF_STOCK' });
    const unknown = await post(apiA, user, { productId: `${bed.tag}-NOPE`, qty: 1, unitPrice: 100 }, wait);
    expect(await read(unknown)).to.include({ status: 'REJECTED', reason: 'UNKNOWN_PRODUCT' });
    const one = await read(fetch(url(apiB, `/order-service/${user}/orders?limit=1`)));
    expect(one).to.have.length(1);
  });

  it('gives the same orderId for the same user + Idempotency-Key on any replica, applied once', async () => {
    const product = `${bed.tag}-I`;
    await putProducts(bed.pool, { [product]: 100 });
    const user = `${bed.tag}-idem`;
    const key = { 'idempotency-key': 'checkout-42' };
    const first = await read(post(apiA, user, { productId: product, qty: 3, unitPrice: 100 }, key));
    const retry = await read(post(apiB, user, { productId: product, qty: 3, unitPrice: 100 }, key));
    expect(retry.orderId).to.equal(first.orderId);
    const other = await read(post(apiB, `${user}-2`, { productId: product, qty: 3, unitPrice: 100 }, key));
    expect(other.orderId).not.to.equal(first.orderId);
    await eventually('orders applied', () => totals(bed.pool, user), (t) => t.orders === 2);
    // Once applied, a retry answers with the stored order, without producing again.
    const late = await post(apiA, user, { productId: product, qty: 3, unitPrice: 100 }, { ...key, prefer: 'wait=5' });
    expect(late.status).to.equal(200);
    expect(await read(late)).to.include({ orderId: first.orderId, status: 'ACCEPTED' });
    expect((await totals(bed.pool, user)).orders).to.equal(2);
    expect((await read(fetch(url(apiA, `/catalog-service/catalogs/${product}`)))).stock).to.equal(94);
  });

  it('pages a long list with limit and cursor', async () => {
    const product = `${bed.tag}-L`;
    await putProducts(bed.pool, { [product]: 1000 });
    const user = `${bed.tag}-pages`;
    for (let i = 0; i < 5; i++) expect((await post(apiA, user, { productId: product, qty: 1, unitPrice: 1 })).status).to.equal(202);
    await eventually('5 applied', () => totals(bed.pool, user), (t) => t.orders === 5);
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const response: Response = await fetch(url(apiB, `/order-service/${user}/orders?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
      seen.push(...(await read(response)).map((o: { orderId: string }) => o.orderId));
      cursor = response.headers.get('x-next-cursor');
    }
    expect(seen).to.have.length(5);
    expect(new Set(seen).size).to.equal(5);
  });

  describe('errors', () => {
    // [name, request, status, message pattern, the field a 400 must name (null: no field)]
    const cases: Array<[string, () => Promise<Response>, number, RegExp | null, string | null]> = [
      ['missing field', () => post(apiA, 'u1', { productId: 'P', qty: 1 }), 400, /unitPrice/, 'unitPrice'],
      ['qty zero', () => post(apiA, 'u1', { productId: 'P', qty: 0, unitPrice: 1 }), 400, /qty/, 'qty'],
      ['qty as a string', () => post(apiA, 'u1', { productId: 'P', qty: '10', unitPrice: 1 }), 400, /qty/, 'qty'],
      ['qty as a boolean', () => post(apiA, 'u1', { productId: 'P', qty: true, unitPrice: 1 }), 400, /qty/, 'qty'],
      ['huge unitPrice', () => post(apiA, 'u1', { productId: 'P', qty: 1, unitPrice: 1e12 }), 400, /unitPrice/, 'unitPrice'],
      ['unknown field', () => post(apiA, 'u1', { productId: 'P', qty: 1, unitPrice: 1, admin: true }), 400, /admin/, 'admin'],
      ['bad userId', () => post(apiA, "u1'--", { productId: 'P', qty: 1, unitPrice: 1 }), 400, /userId/, 'userId'],
      ['malformed JSON', () => fetch(url(apiA, '/order-service/u1/orders'), { method: 'POST', headers: json, body: '{"productId":' }), 400, /JSON/, null],
      ['not JSON', () => fetch(url(apiA, '/order-service/u1/orders'), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'qty=1' }), 415, null, null],
      ['body too large', () => post(apiA, 'u1', { productId: 'P', qty: 1, unitPrice: 1, pad: 'x'.repeat(20_000) }), 413, null, null],
      ['unknown route', () => fetch(url(apiA, '/nope')), 404, /nope/, null],
      ['unknown order', () => fetch(url(apiA, '/order-service/u1/orders/00000000-0000-4000-8000-000000000000')), 404, /not found/, null],
      ['bad orderId', () => fetch(url(apiA, '/order-service/u1/orders/not-a-uuid')), 400, /orderId/, 'orderId'],
      ['bad cursor', () => fetch(url(apiA, '/order-service/u1/orders?cursor=zzzz')), 400, /cursor/, 'cursor'],
      ['limit too big', () => fetch(url(apiA, '/order-service/u1/orders?limit=5000')), 400, /limit/, 'limit'],
      ['unknown product', () => fetch(url(apiA, '/catalog-service/catalogs/NOPE-1')), 404, /NOPE-1/, null],
      ['NUL in productName', () => fetch(url(apiA, '/catalog-service/catalogs/P1'), { method: 'PUT', headers: json, body: JSON.stringify({ productName: 'a\u0000b', unitPrice: 1, stock: 1 }) }), 400, /productName/, 'productName'],
      ['a method the route does not have', () => fetch(url(apiA, '/order-service/u1/orders'), { method: 'DELETE' }), 405, /DELETE/, null],
      ['negative stock', () => fetch(url(apiA, '/catalog-service/catalogs/P1'), { method: 'PUT', headers: json, body: JSON.stringify({ productName: 'x', unitPrice: 1, stock: -1 }) }), 400, /stock/, 'stock'],
    ];
    for (const [name, call, status, message, field] of cases) {
      it(`${status} for ${name}, as JSON without internals`, async () => {
        const response = await call();
        expect(response.status).to.equal(status);
        expect(response.headers.get('content-type')).to.match(/^application\/json/);
        const body = await read(response);
        expect(body).to.have.keys(field ? ['error', 'message', 'field'] : ['error', 'message']);
        if (field) expect(body.field).to.equal(field);
        if (message) expect(body.message).to.match(message);
        expect(JSON.stringify(body)).not.to.match(/at .*\.(ts|js):\d+|node_modules/);
      });
    }

    it('503 with Retry-After naming kafka, within the produce timeout, and no orderId, when Kafka cannot take the order', async () => {
      const gone = await testBed(1, { API_PRODUCE_TIMEOUT_MS: '1500' });
      const api = await startedService(gone.config, ['api']);
      try {
        // The topic disappears under the running api: Kafka cannot take orders for it any more.
        const admin = createAdmin({ brokers: gone.config.kafka.brokers });
        await new Promise<void>((resolve, reject) => admin.deleteTopic(gone.config.kafka.ordersTopic, 10_000, (err) => (err ? reject(err) : resolve())));
        admin.disconnect();
        const startedAt = Date.now();
        const response = await post(api, `${gone.tag}-u`, { productId: 'P', qty: 1, unitPrice: 1 });
        expect(response.status).to.equal(503);
        expect(Number(response.headers.get('retry-after'))).to.be.greaterThan(0);
        expect(Date.now() - startedAt).to.be.below(5_000);
        const body = await read(response);
        expect(body).to.include({ error: 'Service Unavailable', dependency: 'kafka' });
        expect(body, 'not acknowledged: no order id to look up').not.to.have.property('orderId');
      } finally {
        await api.stop();
        await gone.close();
      }
    });
  });

  it('catalog: PUT creates (201) then replaces (200); GET lists by productId', async () => {
    const id = `${bed.tag}-C`;
    const put = (stock: number) => fetch(url(apiA, `/catalog-service/catalogs/${id}`), { method: 'PUT', headers: json, body: JSON.stringify({ productName: 'Mug', unitPrice: 1200, stock }) });
    expect((await put(5)).status).to.equal(201);
    const replaced = await put(7);
    expect(replaced.status).to.equal(200);
    expect(await read(replaced)).to.include({ productId: id, productName: 'Mug', unitPrice: 1200, stock: 7 });
    const list = await read(fetch(url(apiB, `/catalog-service/catalogs?after=${bed.tag}&limit=1000`)));
    expect(list.map((p: { productId: string }) => p.productId)).to.include(id);
  });

  it('publishes an OpenAPI document of every route', async () => {
    const doc = await read(fetch(url(apiA, '/docs/json')));
    expect(Object.keys(doc.paths)).to.include.members([
      '/order-service/{userId}/orders',
      '/order-service/{userId}/orders/{orderId}',
      '/catalog-service/catalogs',
      '/catalog-service/catalogs/{productId}',
      '/order-service/{userId}/orders/{orderId}/cancel',
      '/catalog-service/catalogs/{productId}/stock',
    ]);
    expect(doc.paths['/catalog-service/catalogs/{productId}/stock'].post.requestBody.content['application/json'].schema.properties.add).to.include({ minimum: 1 });
    expect(doc.components.schemas.Order.properties.status.enum).to.include('CANCELLED');
    expect(doc.paths['/order-service/{userId}/orders'].post.requestBody.content['application/json'].schema.properties.qty).to.include({ minimum: 1, maximum: 1_000_000 });
  });
});
