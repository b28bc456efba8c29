// The metrics module on its own: every labelled counter and histogram is exported at zero for each
// label value its role can emit (so dashboards show 0, not "No data"), only for the roles the
// process runs; and src/metrics imports nothing above it (the composition root wires the roles).
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createMetrics, initialiseRoute, MESSAGE_SERIES, ORDER_OUTCOMES, REFUSAL_REASONS, RETRY_OPERATIONS, WAITED_VERDICTS } from '../../src/metrics/registry.js';
import { recordBatch } from '../../src/metrics/observers.js';

const series = (exposition: string, name: string) => exposition.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

describe('metrics', () => {
  it('start every labelled counter of the api at zero, and none of the processor', async () => {
    const text = await createMetrics(['api']).registry.metrics();
    for (const outcome of ORDER_OUTCOMES) expect(series(text, 'orderstream_orders_received_total'), outcome).to.include(`orderstream_orders_received_total{outcome="${outcome}",role="api"} 0`);
    for (const verdict of WAITED_VERDICTS) expect(series(text, 'orderstream_order_verdicts_waited_total'), verdict).to.include(`orderstream_order_verdicts_waited_total{verdict="${verdict}",role="api"} 0`);
    for (const reason of REFUSAL_REASONS) expect(series(text, 'orderstream_api_requests_refused_total'), reason).to.include(`orderstream_api_requests_refused_total{reason="${reason}",role="api"} 0`);
    expect(series(text, 'orderstream_processor_messages_total')).to.deep.equal([]);
    expect(series(text, 'orderstream_processor_retries_total')).to.deep.equal([]);
  });

  it('start every labelled counter of the processor at zero', async () => {
    const text = await createMetrics(['processor']).registry.metrics();
    for (const { event, outcome } of MESSAGE_SERIES) expect(series(text, 'orderstream_processor_messages_total')).to.include(`orderstream_processor_messages_total{event="${event}",outcome="${outcome}",role="processor"} 0`);
    expect(series(text, 'orderstream_processor_messages_total')).to.have.length(10); // 3 types × 3 outcomes, and dead letters
    for (const operation of RETRY_OPERATIONS) expect(series(text, 'orderstream_processor_retries_total')).to.include(`orderstream_processor_retries_total{operation="${operation}",role="processor"} 0`);
    expect(series(text, 'orderstream_orders_received_total')).to.deep.equal([]);
  });

  it('label both roles in one process api+processor', async () => {
    const text = await createMetrics(['api', 'processor']).registry.metrics();
    expect(text).to.include('orderstream_processor_messages_total{event="unknown",outcome="dlq",role="api+processor"} 0');
    expect(text).to.include('orderstream_orders_received_total{outcome="unavailable",role="api+processor"} 0');
  });

  it('start a route at zero for 2xx, 4xx and 5xx, skipping derived HEAD routes', async () => {
    const metrics = createMetrics(['api']);
    initialiseRoute(metrics, ['GET', 'HEAD'], '/order-service/:userId/orders');
    const counts = series(await metrics.registry.metrics(), 'orderstream_http_request_duration_seconds_count');
    expect(counts).to.have.members(
      ['2xx', '4xx', '5xx'].map((c) => `orderstream_http_request_duration_seconds_count{role="api",method="GET",route="/order-service/:userId/orders",status_class="${c}"} 0`),
    );
  });

  it('record a batch: outcomes counted, verdict latency from createdAt', async () => {
    const metrics = createMetrics(['processor']);
    const now = 1_700_000_000_000;
    recordBatch(metrics, { messages: 5, deadLetters: 1, applySeconds: 0.02, verdicts: [{ event: 'OrderCreated', outcome: 'ACCEPTED', count: 2 }, { event: 'OrderCreated', outcome: 'REJECTED', count: 1 }, { event: 'StockAdded', outcome: 'STOCKED', count: 1 }], decidedCreatedAt: [now - 40, now - 3000, now + 5] }, now);
    const text = await metrics.registry.metrics();
    expect(text).to.include('orderstream_processor_messages_total{event="OrderCreated",outcome="accepted",role="processor"} 2');
    expect(text).to.include('orderstream_processor_messages_total{event="StockAdded",outcome="stocked",role="processor"} 1');
    expect(text).to.include('orderstream_processor_messages_total{event="unknown",outcome="dlq",role="processor"} 1');
    expect(text).to.include('orderstream_order_verdict_latency_seconds_count{role="processor"} 3');
    expect(text).to.include('orderstream_order_verdict_latency_seconds_bucket{le="0.05",role="processor"} 2'); // 40 ms and a clock 5 ms ahead (0)
    expect(text).to.include('orderstream_order_verdict_latency_seconds_bucket{le="2.5",role="processor"} 2');
    expect(text).to.include('orderstream_order_verdict_latency_seconds_bucket{le="5",role="processor"} 3');
  });

  it('import nothing from the layers above them (api, processor, serde, kafka, db, the composition root): only the domain below', () => {
    const dir = fileURLToPath(new URL('../../src/metrics/', import.meta.url));
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const imports = [...readFileSync(dir + file, 'utf8').matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
      for (const spec of imports) expect(spec.startsWith('./') || spec.startsWith('../domain/') || spec === 'prom-client', `src/metrics/${file} imports ${spec}`).to.equal(true);
    }
  });
});
