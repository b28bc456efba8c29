// The alert rules: valid for Prometheus (promtool check), unit-tested (promtool test rules: each
// alert fires when it should and stays quiet when it should not), shipped identically as a
// PrometheusRule, and each with a runbook line in the README. promtool comes with Debian's
// `prometheus` package (.ci/run installs it).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROMETHEUS = join(ROOT, 'deploy', 'prometheus');

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertTest {
  alertname: string;
  eval_time: string;
  exp_alerts?: unknown[];
}

const read = (path: string): unknown => parse(readFileSync(path, 'utf8'));
const rulesFile = read(join(PROMETHEUS, 'alerts.yml')) as { groups: Array<{ name: string; rules: Rule[] }> };
const alerts = rulesFile.groups.flatMap((g) => g.rules).filter((r): r is Rule & { alert: string } => typeof r.alert === 'string');

function promtool(...args: string[]): string {
  try {
    return execFileSync('promtool', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('promtool not found: apt-get install prometheus (it ships promtool)');
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

describe('alert rules (deploy/prometheus/alerts.yml)', function () {
  this.timeout(30_000);

  it('cover what operators must be woken for', () => {
    expect(alerts.map((a) => a.alert)).to.include.members([
      'OrderStreamProcessorLagGrowing', // processor lag growing
      'OrderStreamDeadLetters', // DLQ traffic
      'OrderStreamOrdersRefused', // orders refused (503)
      'OrderStreamServerErrors', // 5xx
      'OrderStreamRetriesSustained', // retries sustained
      'OrderStreamDependencyDown', // dependency down
      'OrderStreamNoProcessor', // no processor in the group for the topic
      'OrderStreamVerdictLatencyHigh', // verdict latency p99 high
      'OrderStreamTargetDown',
    ]);
    for (const a of alerts) {
      expect(a.labels?.severity, `${a.alert} severity`).to.be.oneOf(['critical', 'warning']);
      expect(a.annotations?.summary, `${a.alert} summary`).to.be.a('string').and.match(/\S/);
      expect(a.annotations?.runbook, `${a.alert} runbook`).to.equal('README.md#alert-runbook');
    }
  });

  it('pass promtool check rules, and the compose config that loads them passes promtool check config', () => {
    expect(promtool('check', 'rules', 'deploy/prometheus/alerts.yml')).to.include(`SUCCESS: ${alerts.length} rules found`);
    expect(promtool('check', 'config', 'deploy/prometheus/prometheus.yml')).to.match(/SUCCESS: .*prometheus\.yml is valid/);
  });

  it('each have promtool unit tests that see them firing and quiet, and the tests pass', () => {
    const tests = (read(join(PROMETHEUS, 'alerts.test.yml')) as { tests: Array<{ alert_rule_test?: AlertTest[] }> }).tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const { alert } of alerts) {
      const mine = tests.filter((t) => t.alertname === alert);
      expect(mine.some((t) => (t.exp_alerts ?? []).length > 0), `${alert}: a case where it fires`).to.equal(true);
      expect(mine.some((t) => (t.exp_alerts ?? []).length === 0), `${alert}: a case where it stays quiet`).to.equal(true);
    }
    expect(promtool('test', 'rules', 'deploy/prometheus/alerts.test.yml')).to.include('SUCCESS');
  });

  it('ship unchanged as the PrometheusRule of deploy/k8s/monitoring (scripts/monitoring/prometheusrule.sh)', () => {
    const rule = read(join(ROOT, 'deploy', 'k8s', 'monitoring', 'prometheusrule.yaml')) as { kind: string; apiVersion: string; spec: { groups: unknown } };
    expect(rule.kind).to.equal('PrometheusRule');
    expect(rule.apiVersion).to.equal('monitoring.coreos.com/v1');
    expect(rule.spec.groups).to.deep.equal(rulesFile.groups);
    const component = read(join(ROOT, 'deploy', 'k8s', 'monitoring', 'kustomization.yaml')) as { resources: string[] };
    expect(component.resources).to.include('prometheusrule.yaml');
  });

  it('each have a runbook line in the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const runbook = readme.slice(readme.indexOf('### Alert runbook'));
    expect(readme, 'README section "Alert runbook"').to.include('### Alert runbook');
    for (const { alert } of alerts) {
      const line = runbook.split('\n').find((l) => l.startsWith(`| \`${alert}\` |`));
      expect(line, `README runbook row for ${alert}`).to.be.a('string');
    }
  });
});
