import { expect } from 'chai';
import { expandVariables, extractMetricNames as names, extractVariableQueryMetrics, PromQLScanError } from '../support/promql.js';

describe('PromQL metric-name scanner (dashboard checks)', () => {
  it('finds a bare selector and ignores label names and values in braces', () => {
    expect(names('up')).to.deep.equal(['up']);
    expect(names('orderstream_verdict_waiters{role="api", job=~"$job", route!="/x", le!~"1|2"}')).to.deep.equal(['orderstream_verdict_waiters']);
    expect(names('foo{ role = "sum(bar)" , }')).to.deep.equal(['foo']);
  });

  it('skips functions, aggregations and the label lists of by/without/on/ignoring/group_*', () => {
    const expr = `histogram_quantile(0.99, sum by (le, route) (rate(orderstream_http_request_duration_seconds_bucket{job=~"$job"}[$__rate_interval])))`;
    expect(names(expr)).to.deep.equal(['orderstream_http_request_duration_seconds_bucket']);
    expect(names('sum(rate(a_total[5m])) by (outcome) / ignoring(outcome) group_left sum(rate(b_total[5m]))')).to.deep.equal(['a_total', 'b_total']);
    expect(names('max without (instance, pod) (c) * on (job) group_left(version) d')).to.deep.equal(['c', 'd']);
    expect(names('topk(5, sum_over_time(e[1h:5m])) and on() vector(1)')).to.deep.equal(['e']);
    expect(names('clamp_min(f, 0) or absent(g) unless h > bool 2')).to.deep.equal(['f', 'g', 'h']);
  });

  it('skips durations, offsets, @ modifiers, numbers and comments', () => {
    expect(names('rate(a[5m] offset 1h30m) - rate(a[5m] offset -5m) + b @ 1609746000 + c @ start()')).to.deep.equal(['a', 'b', 'c']);
    expect(names('a * 1e3 + 0x1F - .5 + Inf - NaN')).to.deep.equal(['a']);
    expect(names('a # b is a comment\n+ c')).to.deep.equal(['a', 'c']);
    expect(names('recording:rule_name:rate5m')).to.deep.equal(['recording:rule_name:rate5m']);
  });

  it('skips Grafana variables in every form', () => {
    expect(names('rate(a[$__rate_interval]) / $__range_s * ${factor} + ${job:regex}')).to.deep.equal(['a']);
    expect(names('increase(a[[[interval]]])')).to.deep.equal(['a']);
    expect(names('a{role=$role}')).to.deep.equal(['a']);
  });

  it('skips string literals, regex matchers with brackets and escapes included', () => {
    const expr = `label_replace(a{route=~"/order-service/[^/]+/(orders|x)\\"}", status_class=~'5..'}, "dst", "$1 sum(b)", "src", "(.*)")`;
    expect(names(expr)).to.deep.equal(['a']);
    expect(names('count_values("version", c{x=`raw\\`})')).to.deep.equal(['c']);
  });

  it('reports names given as __name__="…" or quoted (Prometheus 3), not regex ones', () => {
    expect(names('{__name__="orderstream_up", job="x"}')).to.deep.equal(['orderstream_up']);
    expect(names('{"my.metric", job="x"}')).to.deep.equal(['my.metric']);
    expect(names('{__name__=~"orderstream_.*"}')).to.deep.equal([]);
  });

  it('lists each name once', () => {
    expect(names('a / a + b / a')).to.deep.equal(['a', 'b']);
  });

  it('fails on unknown functions, unbalanced brackets and unterminated strings', () => {
    expect(() => names('histogram_quantil(0.5, a)')).to.throw(PromQLScanError, /unknown function histogram_quantil/);
    expect(() => names('rate(a[5m)')).to.throw(PromQLScanError, /unbalanced \[/);
    expect(() => names('a{job="x"')).to.throw(PromQLScanError, /unbalanced \{|unterminated/);
    expect(() => names('a{job="x}')).to.throw(PromQLScanError, /unterminated string/);
    expect(() => names('a}')).to.throw(PromQLScanError, /unbalanced \}/);
  });

  it('reads Grafana query-variable functions', () => {
    expect(extractVariableQueryMetrics('label_values(job)')).to.deep.equal([]);
    expect(extractVariableQueryMetrics('label_values(orderstream_process_start_time_seconds{job=~"$job", x="a,b"}, instance)')).to.deep.equal([
      'orderstream_process_start_time_seconds',
    ]);
    expect(extractVariableQueryMetrics('query_result(topk(3, sum by (route) (rate(h_count[1h]))))')).to.deep.equal(['h_count']);
    expect(extractVariableQueryMetrics('metrics(orderstream_.*)')).to.deep.equal([]);
    expect(extractVariableQueryMetrics('label_names(g)')).to.deep.equal(['g']);
    expect(extractVariableQueryMetrics('sum(k)')).to.deep.equal(['k']);
  });
});

describe('Grafana variable expansion (dashboard queries sent to Prometheus)', () => {
  it('replaces every form of a variable and the built-ins', () => {
    const values = { job: 'a|b', instance: '.*', __rate_interval: '10s', __range: '5m', __range_s: '300' };
    expect(expandVariables('sum(rate(x{job=~"$job", instance=~"${instance}"}[$__rate_interval]))', values)).to.equal('sum(rate(x{job=~"a|b", instance=~".*"}[10s]))');
    expect(expandVariables('increase(x{job=~"${job:regex}"}[$__range]) / $__range_s + y[[[job]]]', values)).to.equal('increase(x{job=~"a|b"}[5m]) / 300 + y[a|b]');
  });

  it('fails on a variable it has no value for, rather than sending it to Prometheus', () => {
    expect(() => expandVariables('x{route=~"$route"}', { job: '.*' })).to.throw(/no value for Grafana variable \$route/);
  });
});
