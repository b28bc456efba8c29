// The Grafana dashboards, proven on a real Prometheus (the stack's, MONITORING=1): an api and a
// processor run here and are scraped; the test drives mixed traffic, then each fault — malformed
// messages (DLQ), Kafka stopped (503s), PostgreSQL restarted (retries) — and checks that every
// panel query of every dashboard returns data, on a healthy system and over the run; that the
// values agree with what it did (raw counters exactly; the panels' rates are > 0 exactly around
// the fault that explains them); and that the template variables resolve to the live series.
// The run's time range is written to $STACK_DIR/dashboards-run.json for `npm run pictures`.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testBed, putProducts, eventually, type TestBed } from '../support/fixtures.js';
import { expandVariables, extractMetricNames, extractVariableQueryMetrics } from '../support/promql.js';
import { labelValues, prometheusUrl, query, queryRange, scalar, scrapeTargets, type Series } from '../support/prometheus.js';
import { startKafka, startPostgres, stopKafka, stopPostgres } from '../support/stack-control.js';
import { startedService, type RunningService } from '../support/service.js';
import { WAITED_VERDICTS } from '../../src/metrics/registry.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dashboardsDir = join(root, 'grafana', 'dashboards');

/** The stack's scrape interval (scripts/stack/prometheus/start.sh); Grafana's $__rate_interval is 4 of them. */
const SCRAPE_S = Number.parseFloat(process.env.PROMETHEUS_SCRAPE_INTERVAL ?? '2');
const RATE_S = 4 * SCRAPE_S;

interface Target {
  refId?: string;
  expr?: string;
}
interface Panel {
  id?: number;
  title?: string;
  type?: string;
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  allValue?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating?: { list?: Variable[] };
}
interface PanelQuery {
  dashboard: string;
  panelId: number | undefined;
  title: string;
  refId: string | undefined;
  expr: string | undefined;
}

const dashboardFiles = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json')).sort();
const dashboards = dashboardFiles.map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as Dashboard }));

function panelQueries(file: string, dashboard: Dashboard): PanelQuery[] {
  const found: PanelQuery[] = [];
  const walk = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const t of panel.targets ?? []) found.push({ dashboard: file, panelId: panel.id, title: panel.title ?? '', refId: t.refId, expr: t.expr });
      walk(panel.panels ?? []); // rows, collapsed ones included
    }
  };
  walk(dashboard.panels);
  return found;
}

const variableQuery = (v: Variable) => (typeof v.query === 'string' ? v.query : v.query?.query);
const where = (q: PanelQuery) => `${q.dashboard} panel "${q.title}" (${q.panelId}) ${q.refId}`;
const allQueries = dashboards.flatMap(({ file, dashboard }) => panelQueries(file, dashboard));

describe('Grafana dashboards', () => {
  it('are there, parse, have unique uids and ids, and every target has an expr and a refId', () => {
    expect(dashboardFiles).to.include.members(['order-stream-overview.json', 'order-stream-api.json', 'order-stream-processor.json']);
    const uids = new Set<string>();
    for (const { file, dashboard } of dashboards) {
      expect(dashboard.uid, file).to.be.a('string').and.not.equal('');
      expect(uids.has(dashboard.uid), `${file}: uid ${dashboard.uid} used twice`).to.equal(false);
      uids.add(dashboard.uid);
      expect(dashboard.schemaVersion, file).to.equal(39);
      const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size, `${file}: panel ids unique`).to.equal(ids.length);
      for (const panel of panels) {
        if (panel.type !== 'row') expect(panel.targets, `${file}: panel "${panel.title}" has no targets`).to.be.an('array').that.is.not.empty;
      }
      for (const q of panelQueries(file, dashboard)) {
        expect(q.expr, `${where(q)} has no expr`).to.be.a('string').and.match(/\S/);
        expect(q.refId, `${where(q)} has no refId`).to.be.a('string').and.match(/\S/);
        expect(extractMetricNames(q.expr!), `${where(q)} names no metric`).to.not.be.empty;
      }
    }
  });

  describe('on a real Prometheus, under traffic and faults', function () {
    this.timeout(420_000);

    let bed: TestBed;
    let api: RunningService;
    let processor: RunningService;
    let removeTargets: () => void = () => undefined;
    let jobs: { api: string; processor: string };
    let variables: Record<string, string>;
    const events: Record<string, number> = {};
    const mark = (name: string) => (events[name] = Date.now() / 1000);
    const ledger = newLedger();
    let injectedDeadLetters = 0;
    /** The orders of this test's users as stored, by orderId. */
    let stored = new Map<string, { status: string; createdAt: number }>();
    const storedCount = (status: string) => [...stored.values()].filter((o) => o.status === status).length;
    /** Orders produced straight into Kafka while PostgreSQL was down (the processor must retry them). */
    const direct: string[] = [];

    before(async () => {
      prometheusUrl(); // fails early, with the fix, when the stack runs without Prometheus
      // LOG_LEVEL error: the faults make the roles warn many times a second, by design.
      bed = await testBed(3, { PROCESSOR_BATCH_WAIT_MS: '5', LOG_LEVEL: 'error' });
      jobs = { api: `order-stream-api-${bed.tag}`, processor: `order-stream-processor-${bed.tag}` };
      [api, processor] = await Promise.all([startedService(bed.config, ['api']), startedService(bed.config, ['processor'])]);
      removeTargets = scrapeTargets(`dashboards-${bed.tag}`, [
        { job: jobs.api, targets: [`127.0.0.1:${api.managementPort}`] },
        { job: jobs.processor, targets: [`127.0.0.1:${processor.managementPort}`] },
      ]);
      await eventually('processor ready', async () => (await fetch(`http://127.0.0.1:${processor.managementPort}/readyz`)).status, (s) => s === 200);
      await eventually('Prometheus scraping both roles', () => query(`up{job=~"${jobs.api}|${jobs.processor}"} == 1`), (r) => r.length === 2, 30_000);
      mark('start');

      const products = { stocked: `${bed.tag}-STOCKED`, empty: `${bed.tag}-EMPTY`, unknown: `${bed.tag}-UNKNOWN` };
      await putProducts(bed.pool, { [products.stocked]: 1_000_000, [products.empty]: 0 });
      const driver = new Driver(`http://127.0.0.1:${api.port}`, bed.tag, products, ledger);

      // 1. healthy, mixed traffic
      driver.start();
      await eventually('traffic of every kind', async () => ledger, (l) => l.posts.acknowledged > 20 && l.waited.accepted! > 0 && l.waited.rejected! > 0 && l.posts.replayed > 0, 60_000);
      // Prometheus has counted traffic for three whole rate windows: every rate panel has data.
      await eventually('traffic counted for three rate windows', () => query(`min_over_time(sum(orderstream_orders_received_total{job="${jobs.api}", outcome="acknowledged"})[${3 * RATE_S}s:${SCRAPE_S}s]) > 0`), (r) => r.length === 1, 120_000, 500);
      mark('healthy');

      // 2. malformed messages → DLQ
      mark('dlqInjected');
      const garbage = ['not avro at all', '\u0000\u0000\u0000\u0000', '{"json":"instead"}', '\u0000\u00ff\u00ff\u00ff\u00ff'];
      for (let i = 0; i < 6; i++) await bed.delivery.send({ topic: bed.config.kafka.ordersTopic, key: products.stocked, value: Buffer.from(garbage[i % garbage.length]!, 'latin1') });
      injectedDeadLetters = 6;
      await eventually('dead letters counted', () => query(`sum(orderstream_processor_messages_total{job="${jobs.processor}", outcome="dlq"})`), (r) => r[0]?.value === injectedDeadLetters, 30_000);
      mark('dlqCounted');
      // The DLQ rate is back to 0 before the next fault.
      await eventually('DLQ rate back to 0', () => query(`sum(rate(orderstream_processor_messages_total{job="${jobs.processor}", outcome="dlq"}[${RATE_S}s]))`), (r) => r[0]?.value === 0, 60_000, 500);

      // 3. Kafka stopped → 503s
      mark('kafkaStopped');
      await stopKafka();
      await eventually('503s counted', () => query(`sum(orderstream_orders_received_total{job="${jobs.api}", outcome="unavailable"})`), (r) => (r[0]?.value ?? 0) > 0, 60_000);
      await eventually('kafka reported down', () => query(`min(orderstream_dependency_up{job="${jobs.api}", dependency="kafka"})`), (r) => r[0]?.value === 0, 30_000);
      await startKafka();
      mark('kafkaStarted');
      await eventually('orders acknowledged again', async () => ledger.lastAcknowledgedAt, (t) => t > events.kafkaStarted!, 120_000);
      mark('kafkaRecovered');

      // 4. PostgreSQL restarted → retries (orders straight into Kafka, the api paused: it needs the database)
      await driver.pause();
      mark('postgresStopped');
      await stopPostgres();
      for (let i = 0; i < 4; i++) {
        const order = { orderId: randomUUID(), userId: `${bed.tag}-direct`, productId: products.stocked, qty: 1, unitPrice: 100, totalPrice: 100, createdAt: Date.now() };
        await bed.delivery.send({ topic: bed.config.kafka.ordersTopic, key: order.productId, value: bed.serde.encode({ type: 'OrderCreated', event: order }) });
        ledger.expected.set(order.orderId, 'ACCEPTED');
        direct.push(order.orderId);
      }
      await eventually('retries counted', () => query(`sum(orderstream_processor_retries_total{job="${jobs.processor}", operation="batch apply"})`), (r) => (r[0]?.value ?? 0) > 0, 60_000);
      await startPostgres();
      mark('postgresStarted');
      driver.start();
      // Traffic after the restart, acknowledged and counted by Prometheus.
      const acknowledgedAtRestart = ledger.posts.acknowledged;
      await eventually('orders acknowledged after the restart', async () => ledger.posts.acknowledged, (n) => n >= acknowledgedAtRestart + 20, 60_000);
      await eventually('accepted after the restart, scraped', () => query(`sum(increase(orderstream_processor_messages_total{job="${jobs.processor}", outcome="accepted"}[${RATE_S}s]))`), (r) => (r[0]?.value ?? 0) > 0, 60_000, 500);
      await driver.stop();
      mark('trafficStopped');

      // Every acknowledged order applied with the verdict its product implies, and Prometheus has
      // scraped the final counts.
      const storedOrders = async () =>
        new Map(
          (await bed.pool.query<{ order_id: string; status: string; created_ms: string }>(
            'SELECT order_id::text, status, (extract(epoch FROM created_at) * 1000)::bigint AS created_ms FROM orders WHERE user_id LIKE $1',
            [`${bed.tag}-%`],
          )).rows.map((r) => [r.order_id, { status: r.status, createdAt: Number(r.created_ms) }]),
        );
      stored = await eventually('every acknowledged order applied', storedOrders, (m) => [...ledger.expected.keys()].every((id) => m.has(id)), 120_000);
      await eventually('final counts scraped', () => query(`sum(orderstream_processor_messages_total{job="${jobs.processor}", outcome=~"accepted|rejected"})`), (r) => r[0]?.value === stored.size, 60_000);
      // Rates back to 0: the run's end is in the windows the panels look at.
      await eventually('request rate back to 0', () => query(`sum(rate(orderstream_orders_received_total{job="${jobs.api}"}[${RATE_S}s]))`), (r) => r[0]?.value === 0, 60_000, 500);
      mark('end');

      const range = Math.ceil(events.end! - events.start!) + RATE_S;
      variables = { datasource: 'prometheus', job: `${jobs.api}|${jobs.processor}`, instance: '.*', route: '.*', __rate_interval: `${RATE_S}s`, __interval: `${SCRAPE_S}s`, __range: `${range}s`, __range_s: String(range) };
      writeFileSync(
        join(process.env.STACK_DIR ?? join(root, '.stack'), 'dashboards-run.json'),
        JSON.stringify({ prometheus: prometheusUrl(), jobs, variables, step: SCRAPE_S, events }, null, 2),
      );
    });

    after(async () => {
      removeTargets();
      await Promise.all([api, processor].map((s) => s?.stop()));
      await bed?.close();
    });

    const expand = (q: PanelQuery) => expandVariables(q.expr!, variables);
    const rangeOf = (q: PanelQuery, start = events.start!, end = events.end!) => queryRange(expand(q), start, end, SCRAPE_S);
    const find = (file: string, title: string, refId = 'A') => {
      const q = allQueries.find((x) => x.dashboard === file && x.title === title && x.refId === refId);
      if (!q) throw new Error(`no panel "${title}" ${refId} in ${file}`);
      return q;
    };
    /** The numbers (NaN dropped: 0/0 while nothing flowed) of all series between two times. */
    const between = (series: Series[], from: number, to: number) =>
      series.flatMap((s) => s.values.filter(([t, v]) => t >= from && t <= to && Number.isFinite(v)).map(([, v]) => v));
    const peak = (values: number[]) => (values.length ? Math.max(...values) : 0);
    const low = (values: number[]) => (values.length ? Math.min(...values) : Number.NaN);

    it('every panel query returns a number on the healthy system, before any fault', async () => {
      const empty: string[] = [];
      const nan: string[] = [];
      for (const q of allQueries) {
        const samples = await query(expand(q), events.healthy);
        if (samples.length === 0) empty.push(where(q));
        // A quantile of a histogram with nothing in the window is NaN (the DLQ producer's, before
        // any dead letter): honest, and Grafana leaves a gap. Everything else must be a number.
        else if (!samples.some((s) => Number.isFinite(s.value)) && !/histogram_quantile/.test(q.expr!)) nan.push(where(q));
      }
      console.log(`      ${allQueries.length - empty.length}/${allQueries.length} panel queries return data on the healthy system`);
      expect(empty, `no data:\n${empty.join('\n')}`).to.deep.equal([]);
      expect(nan, `no number:\n${nan.join('\n')}`).to.deep.equal([]);
    });

    it('every panel query returns data over the run', async () => {
      const empty: string[] = [];
      for (const q of allQueries) {
        const series = await rangeOf(q);
        if (!series.some((s) => s.values.some(([, v]) => Number.isFinite(v)))) empty.push(where(q));
      }
      console.log(`      ${allQueries.length - empty.length}/${allQueries.length} panel queries return data over the run`);
      expect(empty, `no data:\n${empty.join('\n')}`).to.deep.equal([]);
    });

    it('template variables resolve to the live series (label_values)', async () => {
      for (const { file, dashboard } of dashboards) {
        for (const v of dashboard.templating?.list ?? []) {
          if (v.type !== 'query') continue;
          const q = variableQuery(v)!;
          const call = /^label_values\((.*),\s*(\w+)\)$/.exec(q.trim());
          expect(call, `${file} $${v.name}: a label_values(metric, label) query`).to.not.equal(null);
          const [, match, label] = call!;
          expect(extractVariableQueryMetrics(q), `${file} $${v.name}`).to.not.be.empty;
          const values = await labelValues(label!, expandVariables(match!, { job: variables.job!, instance: '.*' }), events.start!, events.end!);
          const want = { job: [jobs.api, jobs.processor], instance: [`127.0.0.1:${api.managementPort}`, `127.0.0.1:${processor.managementPort}`], route: ['/order-service/:userId/orders', '/order-service/:userId/orders/:orderId'] }[label!];
          expect(want, `${file} $${v.name}: a label this test knows`).to.be.an('array');
          expect(values, `${file} $${v.name} = ${q}`).to.include.members(want!);
        }
      }
    });

    it('every acknowledged order is stored with the verdict its product implies', () => {
      for (const [orderId, status] of ledger.expected) expect(stored.get(orderId)?.status, orderId).to.equal(status);
      // Orders the api answered 503 to may still reach Kafka when it comes back (a request to the
      // broker already in flight): they are stored though the client was told to retry. Seen here
      // only while Kafka was stopped; at most as many as the 503s.
      const late = [...stored].filter(([id]) => !ledger.expected.has(id));
      if (late.length) console.log(`      ${late.length} of ${ledger.posts.unavailable} orders answered 503 were applied after Kafka came back`);
      expect(late.length).to.be.at.most(ledger.posts.unavailable);
      for (const [id, { createdAt }] of late) expect(createdAt / 1000, `${id} created while Kafka was stopped`).to.be.within(events.kafkaStopped! - 1, events.kafkaStarted! + 1);
    });

    it('raw counters equal what the test did', async () => {
      const sumBy = async (expr: string, label: string): Promise<Record<string, number>> => Object.fromEntries((await query(expr, events.end)).map((s) => [s.metric[label], s.value]));
      expect(await sumBy(`sum by (outcome) (orderstream_orders_received_total{job="${jobs.api}"})`, 'outcome')).to.deep.equal(ledger.posts);
      expect(await sumBy(`sum by (verdict) (orderstream_order_verdicts_waited_total{job="${jobs.api}"})`, 'verdict')).to.deep.equal(ledger.waited);
      const outcomes = await sumBy(`sum by (outcome) (orderstream_processor_messages_total{job="${jobs.processor}"})`, 'outcome');
      expect(outcomes.accepted, 'accepted').to.equal(storedCount('ACCEPTED'));
      expect(outcomes.rejected, 'rejected').to.equal(storedCount('REJECTED'));
      expect(outcomes.dlq, 'dlq').to.equal(injectedDeadLetters);
      // The orders produced while PostgreSQL was down were retried and applied.
      expect(direct.map((id) => stored.get(id)?.status)).to.deep.equal(['ACCEPTED', 'ACCEPTED', 'ACCEPTED', 'ACCEPTED']);
      // HTTP requests the driver made, by route and status class (probes and scrapes excluded)
      const http = await sumBy(
        `sum by (key) (label_join(orderstream_http_request_duration_seconds_count{job="${jobs.api}", route=~"/order-service.*"}, "key", " ", "method", "route", "status_class"))`,
        'key',
      );
      expect(Object.fromEntries(Object.entries(http).filter(([, n]) => n > 0))).to.deep.equal(Object.fromEntries(ledger.http));
    });

    it('the verdict panels show the mix of orders the test sent', async () => {
      const inRange = Object.fromEntries((await query(expand(find('order-stream-overview.json', 'Verdicts in range')), events.end)).map((s) => [s.metric.outcome, s.value]));
      for (const [outcome, status] of [['accepted', 'ACCEPTED'], ['rejected', 'REJECTED']] as const) {
        const sent = storedCount(status);
        // increase() extrapolates to the range's edges: close, not exact (the raw counters are exact)
        expect(inRange[outcome], `${outcome}: ${inRange[outcome]} vs ${sent} sent`).to.be.closeTo(sent, Math.max(3, sent * 0.15));
      }
      const mix = await rangeOf(find('order-stream-overview.json', 'Verdict mix'), events.start, events.healthy);
      const accepted = mix.find((s) => s.metric.outcome === 'accepted')!.values.filter(([, v]) => Number.isFinite(v)).map(([, v]) => v);
      const expected = [...ledger.expected.values()];
      const sentShare = expected.filter((s) => s === 'ACCEPTED').length / expected.length;
      const meanShare = accepted.reduce((a, b) => a + b, 0) / accepted.length;
      expect(meanShare, 'mean accepted share of the healthy phase').to.be.closeTo(sentShare, 0.15);
    });

    it('DLQ panels are above 0 exactly when the test injected malformed messages', async () => {
      for (const [file, title, refId] of [
        ['order-stream-overview.json', 'DLQ /s', 'A'],
        ['order-stream-overview.json', 'DLQ rate', 'A'],
        ['order-stream-overview.json', 'DLQ rate', 'B'],
        ['order-stream-processor.json', 'Dead letters', 'A'],
        ['order-stream-processor.json', 'Events by type and outcome', 'A'],
      ] as const) {
        const series = await rangeOf(find(file, title, refId));
        const dlq = title === 'Events by type and outcome' ? series.filter((s) => s.metric.outcome === 'dlq') : series;
        const name = `${file} "${title}" ${refId}`;
        expect(peak(between(dlq, events.start!, events.dlqInjected! - SCRAPE_S)), `${name} before the injection`).to.equal(0);
        expect(peak(between(dlq, events.dlqInjected!, events.dlqCounted! + RATE_S + SCRAPE_S)), `${name} after the injection`).to.be.greaterThan(0);
        expect(peak(between(dlq, events.dlqCounted! + RATE_S + 2 * SCRAPE_S, events.end!)), `${name} after the window`).to.equal(0);
      }
    });

    it('503 and 5xx panels rise while Kafka is stopped, and show 0 before', async () => {
      for (const [file, title, refId] of [
        ['order-stream-overview.json', 'Orders unavailable (503)', 'A'],
        ['order-stream-overview.json', '5xx ratio', 'A'],
        ['order-stream-overview.json', 'HTTP 5xx', 'A'],
        ['order-stream-api.json', '503 — orders not acknowledged', 'A'],
        ['order-stream-api.json', '503 — orders not acknowledged', 'B'],
        ['order-stream-api.json', '4xx and 5xx by route', 'A'],
      ] as const) {
        const series = await rangeOf(find(file, title, refId));
        const fives = title === '4xx and 5xx by route' ? series.filter((s) => s.metric.status_class === '5xx') : series;
        const name = `${file} "${title}" ${refId}`;
        expect(peak(between(fives, events.start!, events.kafkaStopped!)), `${name} before Kafka stopped`).to.equal(0);
        expect(peak(between(fives, events.kafkaStopped!, events.kafkaRecovered! + RATE_S)), `${name} while Kafka was stopped`).to.be.greaterThan(0);
      }
      const dependency = await rangeOf(find('order-stream-overview.json', 'Dependency up'));
      const kafka = dependency.filter((s) => s.metric.dependency === 'kafka');
      expect(low(between(kafka, events.kafkaStopped!, events.kafkaRecovered!)), 'kafka down').to.equal(0);
      expect(low(between(dependency, events.start!, events.healthy!)), 'all up while healthy').to.equal(1);
    });

    it('retry panels rise while PostgreSQL is down, and show 0 before', async () => {
      for (const [file, title] of [['order-stream-overview.json', 'Processor retries'], ['order-stream-processor.json', 'Retries by operation']] as const) {
        const series = await rangeOf(find(file, title));
        const batch = series.filter((s) => s.metric.operation === 'batch apply');
        expect(batch, `${file} "${title}": a batch apply series from the start`).to.have.length(1);
        expect(peak(between(series, events.start!, events.postgresStopped!)), `${title} before PostgreSQL stopped`).to.equal(0);
        expect(peak(between(batch, events.postgresStopped!, events.postgresStarted! + RATE_S + SCRAPE_S)), `${title} while it was down`).to.be.greaterThan(0);
      }
      const postgres = (await rangeOf(find('order-stream-overview.json', 'Dependency up'))).filter((s) => s.metric.dependency === 'postgres');
      expect(low(between(postgres, events.postgresStopped!, events.postgresStarted!)), 'postgres down').to.equal(0);
    });

    it('the alert rules are loaded and healthy, and the faults fire DLQ and 503 alerts', async () => {
      const rules = (await (await fetch(`${prometheusUrl()}/api/v1/rules?type=alert`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } };
      const loaded = rules.data.groups.flatMap((g) => g.rules);
      const shipped = (readFileSync(join(root, 'deploy', 'prometheus', 'alerts.yml'), 'utf8').match(/^\s+- alert: (\w+)$/gm) ?? []).map((l) => l.trim().slice('- alert: '.length));
      expect(loaded.map((r) => r.name).sort()).to.deep.equal(shipped.sort());
      for (const r of loaded) expect(r.health, `${r.name}: ${r.lastError ?? ''}`).to.equal('ok');
      // The DLQ alert has no `for`: it fires within an evaluation of the injection.
      const dead = await queryRange('ALERTS{alertname="OrderStreamDeadLetters", alertstate="firing"}', events.dlqInjected!, events.end!, SCRAPE_S);
      expect(dead, 'OrderStreamDeadLetters fired after the injection').to.not.be.empty;
      // 503s for 1 minute: waits for it when the Kafka outage was recent.
      await eventually('OrderStreamOrdersRefused firing', () => query('ALERTS{alertname="OrderStreamOrdersRefused", alertstate="firing"}'), (r) => r.length === 1, 90_000);
    });

    it('after the faults every target and dependency is up again', async () => {
      const targets = await query(expand(find('order-stream-overview.json', 'Targets up')), events.end);
      expect(Object.fromEntries(targets.map((s) => [s.metric.job, s.value]))).to.deep.equal({ [jobs.api]: 1, [jobs.processor]: 1 });
      const dependencies = await query(expand(find('order-stream-overview.json', 'Dependency up')), events.end);
      expect(dependencies.map((s) => s.metric.dependency)).to.include.members(['group', 'kafka', 'postgres', 'registry', 'verdicts']);
      expect(dependencies.map((s) => s.value)).to.satisfy((v: number[]) => v.every((x) => x === 1));
      expect(await scalar(`sum(orderstream_consumer_assigned_partitions{job="${jobs.processor}"})`, events.end)).to.equal(3);
    });
  });
});

interface Ledger {
  /** orderstream_orders_received_total by outcome, from the responses the api gave */
  posts: { acknowledged: number; replayed: number; invalid: number; unavailable: number };
  /** orderstream_order_verdicts_waited_total by verdict */
  waited: Record<string, number>;
  /** requests by "METHOD route status_class" */
  http: Map<string, number>;
  /** every acknowledged orderId and the verdict it must get */
  expected: Map<string, 'ACCEPTED' | 'REJECTED'>;
  lastAcknowledgedAt: number;
}

function newLedger(): Ledger {
  return {
    posts: { acknowledged: 0, replayed: 0, invalid: 0, unavailable: 0 },
    // every verdict label the api exports (zero-initialised), though this traffic gets only some
    waited: Object.fromEntries(WAITED_VERDICTS.map((v) => [v, 0])),
    http: new Map(),
    expected: new Map(),
    lastAcknowledgedAt: 0,
  };
}

/**
 * Mixed traffic from two workers at about 8 requests/s in all: orders that will be accepted and
 * rejected (out of stock, unknown product), with and without `Prefer: wait`, idempotent retries,
 * invalid bodies, reads and 404s. Every response is booked in the ledger by what it was.
 */
class Driver {
  private running = false;
  private workers: Promise<void>[] = [];
  private n = 0;

  constructor(
    private readonly base: string,
    private readonly tag: string,
    private readonly products: { stocked: string; empty: string; unknown: string },
    private readonly ledger: Ledger,
  ) {}

  start(): void {
    this.running = true;
    this.workers = [0, 1].map(() => this.work());
  }

  async pause(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  stop = () => this.pause();

  private async work(): Promise<void> {
    while (this.running) {
      const started = Date.now();
      await this.step(this.n++);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 250 - (Date.now() - started))));
    }
  }

  private book(method: string, route: string, status: number): void {
    const key = `${method} ${route} ${Math.floor(status / 100)}xx`;
    this.ledger.http.set(key, (this.ledger.http.get(key) ?? 0) + 1);
  }

  private async post(user: string, body: unknown, options: { wait?: number; key?: string; expect?: 'ACCEPTED' | 'REJECTED' } = {}): Promise<{ status: number; json: { orderId?: string; status?: string } }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.wait) headers.prefer = `wait=${options.wait}`;
    if (options.key) headers['idempotency-key'] = options.key;
    const response = await fetch(`${this.base}/order-service/${user}/orders`, { method: 'POST', headers, body: JSON.stringify(body) });
    const json = (await response.json()) as { orderId?: string; status?: string };
    const { status } = response;
    this.book('POST', '/order-service/:userId/orders', status);
    const { posts, waited } = this.ledger;
    if (status >= 400 && status < 500) posts.invalid++;
    else if (status === 503) posts.unavailable++;
    else if (status === 200 && !options.wait) posts.replayed++;
    else if (status === 200 || status === 201 || status === 202) {
      posts.acknowledged++;
      this.ledger.lastAcknowledgedAt = Date.now() / 1000;
      if (options.expect && json.orderId) this.ledger.expected.set(json.orderId, options.expect);
      if (options.wait) {
        const verdict = status === 201 ? (json.status === 'ACCEPTED' ? 'accepted' : 'rejected') : status === 202 ? 'timeout' : 'duplicate';
        waited[verdict] = waited[verdict]! + 1;
      }
    } else throw new Error(`unexpected ${status} to an order: ${JSON.stringify(json)}`);
    return { status, json };
  }

  private async get(path: string, route: string): Promise<void> {
    const response = await fetch(`${this.base}${path}`);
    await response.arrayBuffer();
    this.book('GET', route, response.status);
  }

  private async step(i: number): Promise<void> {
    const { stocked, empty, unknown } = this.products;
    const order = (productId: string) => ({ productId, qty: 1 + (i % 3), unitPrice: 100 });
    const user = `${this.tag}-u${i % 5}`;
    switch (i % 11) {
      case 4:
        await this.post(user, order(stocked), { wait: 3, expect: 'ACCEPTED' });
        break;
      case 5:
        await this.post(user, order(empty), { expect: 'REJECTED' });
        break;
      case 6:
        await this.post(user, order(unknown), { wait: 3, expect: 'REJECTED' });
        break;
      case 7:
        await this.post(user, { productId: stocked, qty: 0, unitPrice: 100 });
        break;
      case 8:
        await this.get(`/order-service/${this.tag}-u1/orders?limit=20`, '/order-service/:userId/orders');
        break;
      case 9: {
        // an idempotent retry once the first attempt has its verdict: answered from the database
        const key = randomUUID();
        const first = await this.post(user, order(stocked), { wait: 3, key, expect: 'ACCEPTED' });
        if (first.status === 201) await this.post(user, order(stocked), { key });
        break;
      }
      case 10:
        await this.get(`/order-service/${this.tag}-u1/orders/${randomUUID()}`, '/order-service/:userId/orders/:orderId');
        break;
      default:
        await this.post(user, order(stocked), { expect: 'ACCEPTED' });
    }
  }
}
