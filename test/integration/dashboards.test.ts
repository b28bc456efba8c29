// Every Grafana dashboard under grafana/dashboards queries only metrics the roles really export:
// an api and a processor run in process, serve a few requests, and their /metrics are scraped;
// every panel query and query variable must name families found there.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testBed, putProducts, eventually, type TestBed } from '../support/fixtures.js';
import { extractMetricNames, extractVariableQueryMetrics } from '../support/promql.js';
import { startService, type RunningService } from '../../src/service.js';

const dashboardsDir = fileURLToPath(new URL('../../grafana/dashboards/', import.meta.url));

/** Series Prometheus writes itself for every scrape target; no role exports them. */
const SYNTHETIC = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);

/**
 * Series names a text exposition provides, from its `# TYPE` lines. A classic histogram is only
 * queryable as _bucket/_sum/_count (its bare name selects nothing); a summary as name/_sum/_count.
 */
function exportedSeriesNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
    else names.add(name!);
  }
  return names;
}

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
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating?: { list?: Variable[] };
}

/** Every query of a dashboard, with where it is, for messages. */
function queriesOf(dashboard: Dashboard): Array<{ where: string; expr: string | undefined; refId: string | undefined; variable: boolean }> {
  const found: Array<{ where: string; expr: string | undefined; refId: string | undefined; variable: boolean }> = [];
  const walk = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        found.push({ where: `panel "${panel.title}" (${panel.id}) target ${target.refId}`, expr: target.expr, refId: target.refId, variable: false });
      }
      walk(panel.panels ?? []); // rows, collapsed ones included
    }
  };
  walk(dashboard.panels);
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue; // datasource/custom/interval variables hold no PromQL
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    found.push({ where: `variable $${variable.name}`, expr: query, refId: 'variable', variable: true });
  }
  return found;
}

const dashboardFiles = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json')).sort();
const dashboards = dashboardFiles.map((file) => ({ file, text: readFileSync(join(dashboardsDir, file), 'utf8') }));

describe('Grafana dashboards', () => {
  it('are there, parse, have unique uids, and every target has an expr and a refId', () => {
    expect(dashboardFiles).to.include.members(['order-stream-overview.json', 'order-stream-api.json', 'order-stream-processor.json']);
    const uids = new Set<string>();
    for (const { file, text } of dashboards) {
      const dashboard = JSON.parse(text) as Dashboard;
      expect(dashboard.uid, file).to.be.a('string').and.not.equal('');
      expect(uids.has(dashboard.uid), `${file}: uid ${dashboard.uid} used twice`).to.equal(false);
      uids.add(dashboard.uid);
      expect(dashboard.schemaVersion, file).to.equal(39);
      const queries = queriesOf(dashboard);
      expect(queries.filter((q) => !q.variable), `${file} has no panel queries`).not.to.be.empty;
      for (const q of queries) {
        expect(q.expr, `${file}: ${q.where} has no expr`).to.be.a('string').and.match(/\S/);
        expect(q.refId, `${file}: ${q.where} has no refId`).to.be.a('string').and.match(/\S/);
      }
      for (const panel of dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])])) {
        if (panel.type !== 'row') expect(panel.targets, `${file}: panel "${panel.title}" has no targets`).to.be.an('array').that.is.not.empty;
      }
    }
  });

  describe('against the metrics the roles export (real stack)', () => {
    let bed: TestBed;
    let api: RunningService;
    let processor: RunningService;
    let exported: Set<string>;
    const url = (svc: RunningService, path: string) => `http://127.0.0.1:${svc.port}${path}`;

    before(async () => {
      bed = await testBed(2);
      [api, processor] = await Promise.all([startService(bed.config, ['api']), startService(bed.config, ['processor'])]);
      await eventually('processor ready', async () => (await fetch(url(processor, '/readyz'))).status, (s) => s === 200);
      // A few requests, so labelled histograms and counters have series too.
      const product = `${bed.tag}-P`;
      await putProducts(bed.pool, { [product]: 10 });
      const post = (body: unknown) =>
        fetch(url(api, `/order-service/${bed.tag}-u/orders`), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect((await post({ productId: product, qty: 1, unitPrice: 100 })).status).to.equal(202);
      expect((await post({ productId: product, qty: 0, unitPrice: 100 })).status).to.equal(400);
      expect((await fetch(url(api, `/order-service/${bed.tag}-u/orders`))).status).to.equal(200);
      await eventually('the order applied', async () => (await bed.pool.query('SELECT 1 FROM orders WHERE user_id = $1', [`${bed.tag}-u`])).rowCount, (n) => n === 1);

      exported = new Set();
      for (const svc of [api, processor]) {
        const response = await fetch(url(svc, '/metrics'));
        expect(response.status).to.equal(200);
        for (const name of exportedSeriesNames(await response.text())) exported.add(name);
      }
    });
    after(async () => {
      await Promise.all([api, processor].map((s) => s?.stop()));
      await bed?.close();
    });

    it('scrapes the families the dashboards are built on', () => {
      for (const name of ['orderstream_http_request_duration_seconds_bucket', 'orderstream_processor_messages_total', 'orderstream_process_cpu_seconds_total', 'orderstream_nodejs_eventloop_lag_p99_seconds']) {
        expect(exported, name).to.include(name);
      }
    });

    for (const { file, text } of dashboards) {
      it(`${file} queries only exported metrics`, () => {
        const problems: string[] = [];
        let referenced = 0;
        for (const q of queriesOf(JSON.parse(text) as Dashboard)) {
          if (!q.expr) continue; // reported by the structural test
          let names: string[];
          try {
            names = q.variable ? extractVariableQueryMetrics(q.expr) : extractMetricNames(q.expr);
          } catch (err) {
            problems.push(`${q.where}: ${(err as Error).message}`);
            continue;
          }
          if (!q.variable && names.length === 0) problems.push(`${q.where} references no metric: ${q.expr}`);
          for (const name of names) {
            referenced++;
            if (!exported.has(name) && !SYNTHETIC.has(name)) problems.push(`${q.where}: ${name} is not exported by any role`);
          }
        }
        expect(problems, problems.join('\n')).to.deep.equal([]);
        expect(referenced).to.be.greaterThan(0);
      });
    }
  });
});
