// How the processor's cost grows with the work: throughput, CPU per message and peak RSS against
// backlog size, batch size, lanes and a hot catalog. Each point is one `bench:drain --only
// processor` (its own backlog, --runs rounds, median) with one setting changed from the defaults;
// the points go to one JSON file that bench/chart.py turns into the table and PNG of BENCHMARKS.md.
//
//   npm run bench:curves -- [--runs 3] [--orders 300000] [--backlogs 100000,1000000,3000000]
//                           [--batches 500,1000,2500,3500,5000,10000] [--lanes 1,2,3,6] [--products 10,1000]
//                           [--json bench/results/curves.json]
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import './stack.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    orders: { type: 'string', default: '300000' },
    backlogs: { type: 'string', default: '100000,1000000,3000000' },
    batches: { type: 'string', default: '500,1000,2500,3500,5000,10000' },
    lanes: { type: 'string', default: '1,2,3,6' },
    products: { type: 'string', default: '10,1000' },
    json: { type: 'string', default: 'bench/results/curves.json' },
  },
});
const list = (s: string) => s.split(',').filter(Boolean).map(Number);

interface Point {
  series: 'backlog' | 'batch' | 'lanes' | 'products';
  x: number;
  orders: number;
  env: Record<string, string>;
  summary: unknown;
}

async function drain(orders: number, products: number, env: Record<string, string>): Promise<unknown> {
  const out = `bench/results/.curve-point.json`;
  const args = ['--import', 'tsx', 'bench/drain.ts', '--only', 'processor', '--orders', String(orders), '--products', String(products), '--runs', values.runs!, '--json', out];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bench/drain.ts ${args.slice(2).join(' ')} exited with ${code}`);
  return (JSON.parse(readFileSync(out, 'utf8')) as { summary: unknown }).summary;
}

const orders = Number(values.orders);
const points: Point[] = [];
const plan: Array<Omit<Point, 'summary'> & { products: number }> = [
  ...list(values.backlogs!).map((n) => ({ series: 'backlog' as const, x: n, orders: n, products: 1000, env: {} })),
  ...list(values.batches!).map((n) => ({ series: 'batch' as const, x: n, orders, products: 1000, env: { PROCESSOR_BATCH_MAX_MESSAGES: String(n) } })),
  ...list(values.lanes!).map((n) => ({ series: 'lanes' as const, x: n, orders, products: 1000, env: { PROCESSOR_APPLY_CONCURRENCY: String(n) } })),
  ...list(values.products!).map((n) => ({ series: 'products' as const, x: n, orders, products: n, env: {} })),
];
for (const [i, p] of plan.entries()) {
  console.error(`curve point ${i + 1}/${plan.length}: ${p.series} = ${p.x} (${p.orders} orders${Object.keys(p.env).length ? `, ${JSON.stringify(p.env)}` : ''})`);
  points.push({ series: p.series, x: p.x, orders: p.orders, env: p.env, summary: await drain(p.orders, p.products, p.env) });
  mkdirSync(dirname(values.json!), { recursive: true });
  writeFileSync(values.json!, JSON.stringify({ at: new Date().toISOString(), runs: Number(values.runs), points }, null, 2));
}
console.error(`curves: ${values.json} — draw them with: python3 bench/chart.py ${values.json}`);
