// What every chaos scenario (test/chaos, test/cluster) asserts and reports: the invariants, no
// 500 on any route, 503s that name their dependency, recovery without help, and one table row.
import { expect } from 'chai';
import type { Verdict } from './invariants.js';
import { answered, type Load, type LoadResult } from './load.js';
import { eventually } from './eventually.js';
import { envFor, spawnRole, type Child } from './child.js';
import type { TestBed } from './fixtures.js';

export const full = process.env.CHAOS === 'full';
export const scale = <T>(short: T, long: T): T => (full ? long : short);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One line per scenario, printed at the end for RELIABILITY.md. */
export class Report {
  private readonly rows: string[] = [];

  record(name: string, injected: string, load: string, verdict: Verdict, result?: LoadResult, extra = '') {
    const clients = result
      ? `; ${result.statuses.get(503) ?? 0} order 503s, ${result.readStatuses.get(503) ?? 0} read 503s (${[...result.unavailable].map(([d, n]) => `${d} ${n}`).join(', ') || 'none'}), longest gap without an acknowledged order ${(result.longestGapMs / 1000).toFixed(1)} s`
      : '';
    const commands = verdict.commands ? `, ${verdict.commands} cancellations and restocks acknowledged, ${verdict.lostCommands} not applied` : '';
    this.rows.push(`| ${name} | ${injected} | ${load} | ${verdict.acknowledged} acknowledged, ${verdict.lost} lost${commands}, ${verdict.stockMismatches.length} stock mismatches${clients}${extra} |`);
  }

  print() {
    console.log(`\n| scenario | injected | load | result |\n|---|---|---|---|\n${this.rows.join('\n')}`);
  }
}

export function expectHealthy(verdict: Verdict) {
  expect(verdict.lost, 'acknowledged orders not applied').to.equal(0);
  expect(verdict.lostCommands, 'acknowledged cancellations and restocks not applied').to.equal(0);
  expect(verdict.stockMismatches, 'stock = initial + Σ restocks − Σ qty accepted and not cancelled').to.deep.equal([]);
}

/** Never a 500, on any route; every 503 has Retry-After and names its dependency. */
export function expectNoServerErrors(result: LoadResult) {
  expect(answered(result, 500), 'answers 500').to.equal(0);
  expect(result.malformed503, '503 without Retry-After or dependency').to.deep.equal([]);
  expect(result.readStatuses.get(200) ?? 0, 'reads were driven').to.be.greaterThan(0);
}

/** New orders are acknowledged again: `more` beyond what was acknowledged when this was called. */
export async function recovers(load: Load, more: number, timeoutMs = 60_000) {
  const from = load.count;
  await eventually(`${more} more orders acknowledged`, () => load.count, (n) => n >= from + more, timeoutMs);
}

/** A replica's /readyz (on its management port): the HTTP status, and which dependencies fail (and why). */
export async function readyz(port: number) {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  const body = (await response.json()) as { failing?: string[]; checks: Record<string, string> };
  return { httpStatus: response.status, failing: body.failing ?? [], checks: body.checks };
}

/** The 20 products a scenario orders from, and a catalog of them with `stock` each. */
export const scenarioProducts = (tag: string) => Array.from({ length: 20 }, (_, i) => `${tag}-P${i}`);
export const scenarioCatalog = (tag: string, stock: number) => Object.fromEntries(scenarioProducts(tag).map((p) => [p, stock]));

/** Starts role replicas as child processes of the bed's config, remembered in `children` for cleanup. */
export function replicaSpawner(bed: () => TestBed, children: Child[]) {
  /** `port` is the API's (undefined for a processor), `managementPort` serves /readyz and /metrics. */
  return async (role: 'api' | 'processor', name: string, extra: Record<string, string> = {}): Promise<Child & { port: number | undefined; managementPort: number }> => {
    const child = spawnRole(role, envFor(bed().config, extra), `${bed().tag}-${name}`);
    children.push(child);
    const ports = await child.started;
    return Object.assign(child, { port: ports.api, managementPort: ports.management });
  };
}
