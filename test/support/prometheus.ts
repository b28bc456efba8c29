// The local stack's Prometheus (MONITORING=1 npm run stack:up) from tests: tell it what to scrape
// (file-based discovery under $STACK_DIR/prometheus/targets) and query it over its HTTP API.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const stackDir = () => process.env.STACK_DIR ?? join(root, '.stack');

export function prometheusUrl(): string {
  const url = process.env.PROMETHEUS_URL;
  if (!url) throw new Error('PROMETHEUS_URL is not set: start the stack with MONITORING=1 npm run stack:up (npm test does) and source .stack/env');
  return url.replace(/\/$/, '');
}

/** Lists targets for Prometheus to scrape as file NAME.json; returns a function removing them. */
export function scrapeTargets(name: string, groups: Array<{ job: string; targets: string[] }>): () => void {
  const dir = join(stackDir(), 'prometheus', 'targets');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  // Written aside and renamed: Prometheus never reads half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify(groups.map(({ job, targets }) => ({ targets, labels: { job } }))));
  renameSync(`${file}.tmp`, file);
  return () => rmSync(file, { force: true });
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}
export interface Series {
  metric: Record<string, string>;
  /** [unix seconds, value] */
  values: Array<[number, number]>;
}

type ApiResponse<T> = { status: 'success'; data: T } | { status: 'error'; errorType: string; error: string };

async function api<T>(path: string, params: Record<string, string | string[]>, method: 'GET' | 'POST' = 'POST'): Promise<T> {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) for (const v of Array.isArray(value) ? value : [value]) form.append(key, v);
  // POST keeps long queries out of the URL; the label values endpoint takes GET only.
  const response = method === 'POST' ? await fetch(`${prometheusUrl()}${path}`, { method, body: form }) : await fetch(`${prometheusUrl()}${path}?${form}`);
  if (!(response.headers.get('content-type') ?? '').includes('json')) throw new Error(`Prometheus ${path}: ${response.status} ${await response.text()}`);
  const json = (await response.json()) as ApiResponse<T>;
  if (json.status !== 'success') throw new Error(`Prometheus ${path}: ${json.errorType}: ${json.error} (${JSON.stringify(params)})`);
  return json.data;
}

const toNumber = (v: string) => Number(v); // "NaN", "+Inf" included

/** An instant query at `time` (unix seconds); a scalar result comes back as one sample. */
export async function query(expr: string, time?: number): Promise<Sample[]> {
  const data = await api<{ resultType: string; result: unknown }>('/api/v1/query', { query: expr, ...(time ? { time: String(time) } : {}) });
  if (data.resultType === 'scalar') return [{ metric: {}, value: toNumber((data.result as [number, string])[1]) }];
  return (data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((r) => ({ metric: r.metric, value: toNumber(r.value[1]) }));
}

export async function queryRange(expr: string, start: number, end: number, step: number): Promise<Series[]> {
  const data = await api<{ result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> }>('/api/v1/query_range', {
    query: expr, start: String(start), end: String(end), step: String(step),
  });
  return data.result.map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [t, toNumber(v)] as [number, number]) }));
}

/** Values of `label` on the series matching `match` — what Grafana's label_values(match, label) lists. */
export async function labelValues(label: string, match: string, start: number, end: number): Promise<string[]> {
  return api<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values`, { 'match[]': match, start: String(start), end: String(end) }, 'GET');
}

/** One number from a query that must return exactly one sample (sum(...), say). */
export async function scalar(expr: string, time?: number): Promise<number> {
  const samples = await query(expr, time);
  if (samples.length !== 1) throw new Error(`expected one sample from ${expr}, got ${JSON.stringify(samples)}`);
  return samples[0]!.value;
}
