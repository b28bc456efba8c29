// Kafka with credentials, end to end: a broker whose only client listener is SASL_SSL with
// SCRAM-SHA-512 and a certificate from a locally generated CA (scripts/stack/kafka-scram, started
// here if the stack did not: KAFKA_AUTH=scram npm run stack:up), and the roles configured through
// the settings operators use — KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_CA_LOCATION. The
// registry and PostgreSQL are the stack's.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { eventually, putProducts, testBed, type TestBed } from '../support/fixtures.js';
import { startedService, type RunningService } from '../support/service.js';
import { envFor, spawnRole, type Child } from '../support/child.js';
import { readiness } from '../support/replicas.js';

const root = new URL('../../', import.meta.url).pathname;

/** Starts the SASL/SCRAM broker when it is not up (idempotent) and reads its client settings. */
function scramKafka(): Record<string, string> {
  const stackDir = process.env.STACK_DIR ?? `${root}.stack`;
  execFileSync('bash', [`${root}scripts/stack/kafka-scram/start.sh`], { env: { ...process.env, STACK_DIR: stackDir }, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
  const lines = readFileSync(`${stackDir}/kafka-scram/env`, 'utf8').trim().split('\n');
  return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

describe('Kafka over SASL_SSL with SCRAM-SHA-512 (real broker)', function () {
  this.timeout(300_000);
  let bed: TestBed;
  let scram: Record<string, string>;
  const services: RunningService[] = [];
  const children: Child[] = [];

  before(async () => {
    scram = scramKafka();
    expect(scram).to.include({ KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512' });
    // Replication 1: the SCRAM broker is a single node, whatever the stack's main Kafka is.
    bed = await testBed(3, { ...scram, ORDERS_TOPIC_REPLICATION: '1', ORDERS_TOPIC_MIN_INSYNC_REPLICAS: '1' });
  });
  after(async () => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGTERM');
    await Promise.all(children.map((c) => c.exited));
    await Promise.all(services.map((s) => s.stop()));
    await bed?.close();
  });

  it('takes an order through the api and applies it in the processor, both authenticated over TLS', async () => {
    expect(bed.config.kafka.security).to.include({ 'security.protocol': 'sasl_ssl', 'sasl.mechanisms': 'SCRAM-SHA-512', 'ssl.ca.location': scram.KAFKA_SSL_CA_LOCATION });
    const [api, processor] = await Promise.all([startedService(bed.config, ['api']), startedService(bed.config, ['processor'])]);
    services.push(api!, processor!);
    await eventually('processor ready', async () => (await fetch(`http://127.0.0.1:${processor!.managementPort}/readyz`)).status, (s) => s === 200, 60_000);
    const product = `${bed.tag}-S`;
    await putProducts(bed.pool, { [product]: 5 });
    const response = await fetch(`http://127.0.0.1:${api!.port}/order-service/${bed.tag}-u/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=20' },
      body: JSON.stringify({ productId: product, qty: 2, unitPrice: 100 }),
    });
    expect(response.status).to.equal(201);
    expect(((await response.json()) as { status: string }).status).to.equal('ACCEPTED');
    const { rows } = await bed.pool.query('SELECT stock FROM catalog WHERE product_id = $1', [product]);
    expect(Number(rows[0].stock)).to.equal(3);
  });

  it('with a wrong password: not ready, naming the SASL authentication failure, and no crash-loop', async () => {
    const child = spawnRole('api', envFor(bed.config, { ...scram, KAFKA_SASL_PASSWORD: 'not-the-password' }), `${bed.tag}-wrong-password`);
    children.push(child);
    const ports = await child.listening;
    const attempt = (startup = '') => Number(/attempt (\d+)/.exec(startup)?.[1] ?? 0);
    const refused = await eventually('not ready, saying why', () => readiness(ports), (r) => r.status === 503 && /SASL authentication error.*invalid credentials/.test(r.checks.startup ?? ''), 60_000);
    expect(refused.checks.startup).to.match(/^waiting for kafka: /);
    // It keeps retrying in the same process: later attempts, never an exit.
    await eventually('retried', () => readiness(ports), (r) => attempt(r.checks.startup) >= attempt(refused.checks.startup) + 1, 60_000);
    expect(child.process.exitCode, 'still running').to.equal(null);
  });
});
