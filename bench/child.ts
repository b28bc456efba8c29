// Runs one benchmark contender in its own process, so its CPU time and peak RSS are its own. The
// child measures itself over the measured window only (process.cpuUsage covers every thread of the
// process: V8's, libuv's and librdkafka's) and prints one JSON line on stdout.
import { spawn } from 'node:child_process';
import { threadCpu } from './support.js';

export interface Measured {
  messages: number;
  seconds: number;
  /** CPU seconds (user + system, all threads) during the measured window. */
  cpuSeconds: number;
  /** Peak resident set size of the child over its life, bytes. */
  rss: number;
  /** CPU seconds by thread (main, libuv/V8 workers as `node`, librdkafka's `rdk:*`) in the window. */
  threads?: Record<string, number>;
}

export async function runChild(script: string, args: string[], env: Record<string, string> = {}): Promise<Measured> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = out.trim().split('\n').pop();
  if (code !== 0 || !line) throw new Error(`${script} ${args.join(' ')} exited with ${code}`);
  return JSON.parse(line) as Measured;
}

/** In the child: a stopwatch for CPU and wall time over the measured work. */
export function stopwatch(): { start(): void; stop(messages: number): Measured } {
  let startedAt = 0;
  let cpuAt = process.cpuUsage();
  let threadsAt = new Map<string, number>();
  return {
    // Called once the first message arrived: start-up and group join are not measured.
    start() {
      startedAt = performance.now();
      cpuAt = process.cpuUsage();
      threadsAt = threadCpu(process.pid);
    },
    stop(messages: number): Measured {
      const cpu = process.cpuUsage(cpuAt);
      const threads: Record<string, number> = {};
      for (const [name, s] of threadCpu(process.pid)) threads[name] = +(s - (threadsAt.get(name) ?? 0)).toFixed(2);
      return { threads, messages, seconds: (performance.now() - startedAt) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, rss: process.resourceUsage().maxRSS * 1024 };
    },
  };
}
