// request.log is made only when a request logs (src/api/request-log.ts): a request that writes no
// line builds no pino child, and a line that is written reads as the eager child's would have.
import { expect } from 'chai';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { requestLogger } from '../../src/api/request-log.js';
import { createInstance } from '../../src/api/app.js';
import { createMetrics } from '../../src/metrics/registry.js';

/** A pino root logger that keeps its lines, and counts the children made from it. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) });
  const root = pino({ level: 'info', base: { service: 'test' }, redact: { paths: ['password'], censor: '[redacted]' } }, stream);
  let children = 0;
  const child = root.child.bind(root);
  root.child = ((...args: Parameters<typeof child>) => (children++, child(...args))) as typeof root.child;
  return { root, lines, children: () => children };
}

describe('request.log', () => {
  it('makes no child until the request logs, then writes what the eager child would have', () => {
    const { root, lines, children } = capture();
    const lazy = requestLogger(root as unknown as FastifyBaseLogger, { reqId: 'r-1' }, {});
    expect(lazy.level).to.equal('info');
    expect(children(), 'no line, no child').to.equal(0);

    lazy.debug('below the level');
    lazy.warn({ password: 'secret', orderId: 'o-1' }, 'not acknowledged');
    const eager = root.child({ reqId: 'r-1' }, {});
    eager.warn({ password: 'secret', orderId: 'o-1' }, 'not acknowledged');

    expect(children(), 'one child for the lazy logger, one for the eager').to.equal(2);
    expect(lines).to.have.length(2);
    const [fromLazy, fromEager] = lines.map(({ time: _time, ...rest }) => rest);
    expect(fromLazy).to.deep.equal(fromEager);
    expect(fromLazy).to.include({ reqId: 'r-1', orderId: 'o-1', password: '[redacted]', msg: 'not acknowledged', service: 'test' });
  });

  it('keeps a route-level log level, and a level set on it', () => {
    const { root, lines } = capture();
    const lazy = requestLogger(root as unknown as FastifyBaseLogger, { reqId: 'r-2' }, { level: 'error' });
    expect(lazy.level).to.equal('error');
    lazy.warn('dropped at level error');
    expect(lines).to.have.length(0);
    lazy.level = 'debug';
    lazy.debug('kept at level debug');
    expect(lines.map((l) => l.msg)).to.deep.equal(['kept at level debug']);
  });

  it('is what a route of the instance logs with: its lines carry the request id it answers with', async () => {
    const { root, lines, children } = capture();
    const app = await createInstance({ log: root, metrics: createMetrics(['api']), bodyLimitBytes: 1024, isDraining: () => false });
    app.get('/quiet', async () => ({ ok: true }));
    app.get('/noisy', async (request) => (request.log.warn('a line'), { ok: true }));
    await app.ready();
    const before = children(); // what Fastify made for itself

    const quiet = await app.inject({ method: 'GET', url: '/quiet' });
    expect(quiet.statusCode).to.equal(200);
    expect(children() - before, 'a request that logs nothing makes no child').to.equal(0);

    const noisy = await app.inject({ method: 'GET', url: '/noisy' });
    expect(lines.map((l) => [l.msg, l.reqId])).to.deep.equal([['a line', noisy.headers['x-request-id']]]);
    await app.close();
  });
});
