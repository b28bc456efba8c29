// Security at the edges: injection strings never reach SQL as code, limits on bodies and headers,
// no internals in responses, secrets never printed.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { testBed, type TestBed } from '../support/fixtures.js';
import { startedService, type RunningService } from '../support/service.js';

const INJECTIONS = ["' OR '1'='1", "1; DROP TABLE orders; --", "x' UNION SELECT * FROM catalog --", '"; DELETE FROM catalog; --', '../../etc/passwd', '%00', 'a'.repeat(65)];

describe('security (real stack)', () => {
  let bed: TestBed;
  let api: RunningService;
  const url = (path: string) => `http://127.0.0.1:${api.port}${path}`;
  before(async () => {
    bed = await testBed(1);
    api = await startedService(bed.config, ['api']);
  });
  after(async () => {
    await api.stop();
    await bed.close();
  });

  it('answers 400 JSON to injection strings in every id, and the tables are intact', async () => {
    const { rows: [before] } = await bed.pool.query('SELECT (SELECT count(*) FROM orders)::int AS orders, (SELECT count(*) FROM catalog)::int AS catalog');
    for (const evil of INJECTIONS) {
      const id = encodeURIComponent(evil);
      const calls = [
        fetch(url(`/order-service/${id}/orders`)),
        fetch(url(`/order-service/${id}/orders`), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productId: 'P', qty: 1, unitPrice: 1 }) }),
        fetch(url('/order-service/u1/orders'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productId: evil, qty: 1, unitPrice: 1 }) }),
        fetch(url(`/order-service/u1/orders/${id}`)),
        fetch(url(`/order-service/u1/orders?cursor=${id}`)),
        fetch(url(`/catalog-service/catalogs/${id}`)),
        fetch(url(`/catalog-service/catalogs?after=${id}`)),
        fetch(url(`/catalog-service/catalogs/${id}`), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productName: 'x', unitPrice: 1, stock: 1 }) }),
      ];
      for (const response of await Promise.all(calls)) {
        expect(response.status, `${response.url}`).to.equal(400);
        expect(response.headers.get('content-type')).to.match(/^application\/json/);
        expect(await response.text()).not.to.match(/node_modules|at \w+ \(|syntax error|pg_|SELECT|INSERT/);
      }
    }
    const { rows: [after] } = await bed.pool.query('SELECT (SELECT count(*) FROM orders)::int AS orders, (SELECT count(*) FROM catalog)::int AS catalog');
    expect(after).to.deep.equal(before);
  });

  it('stores free text that looks like SQL verbatim (parameters, never concatenation)', async () => {
    const name = "Robert'); DROP TABLE catalog; --";
    const productId = `${bed.tag}-bobby`;
    const put = await fetch(url(`/catalog-service/catalogs/${productId}`), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ productName: name, unitPrice: 1, stock: 1 }) });
    expect(put.status).to.equal(201);
    expect((await (await fetch(url(`/catalog-service/catalogs/${productId}`))).json()) as object).to.include({ productName: name });
  });

  it('limits header sizes and the Idempotency-Key', async () => {
    const huge = await fetch(url('/catalog-service/catalogs'), { headers: { 'x-padding': 'x'.repeat(20_000) } });
    expect(huge.status).to.equal(431);
    const longKey = await fetch(url('/order-service/u1/orders'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k'.repeat(300) },
      body: JSON.stringify({ productId: 'P', qty: 1, unitPrice: 1 }),
    });
    expect(longKey.status).to.equal(400);
    expect(((await longKey.json()) as { message: string }).message).to.match(/idempotency-key/);
  });

  it('never prints a secret from the environment, even when it cannot start', () => {
    const secret = 'S3cr3t-' + Math.random().toString(36).slice(2);
    for (const databaseUrl of [`postgres://user:${secret}@127.0.0.1:1/db`, `postgres//user:${secret}@nowhere`]) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'migrate'], {
        env: { PATH: process.env.PATH, KAFKA_BROKERS: '127.0.0.1:1', SCHEMA_REGISTRY_URL: `http://user:${secret}@127.0.0.1:1`, DATABASE_URL: databaseUrl },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.status).not.to.equal(0);
      expect(run.stdout + run.stderr).not.to.include(secret);
      expect(run.stderr.length).to.be.greaterThan(0);
    }
  });
});
