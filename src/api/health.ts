// /healthz answers while the process runs; /readyz answers 200 only when every dependency this
// role needs is usable, so Kubernetes sends traffic (api) or counts the pod ready (processor).
import type { FastifyInstance } from 'fastify';
import { runChecks, type Check } from '../health/checks.js';

export interface HealthOptions {
  checks: Record<string, Check>;
  /** Set on shutdown so the load balancer drains this instance before it stops listening. */
  isDraining: () => boolean;
  /** Checks shown in /readyz but not required for readiness: the role keeps working without them. */
  advisory?: readonly string[];
  checkTimeoutMs?: number;
}

export function healthRoutes(app: FastifyInstance, options: HealthOptions): void {
  const timeout = options.checkTimeoutMs ?? 2000;
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const results = await runChecks(options.checks, timeout);
    // `failing` names what makes this replica not ready (postgres, kafka, …); `checks` says why,
    // advisory checks included.
    const failing = Object.keys(results).filter((name) => results[name] !== 'ok' && !options.advisory?.includes(name)).sort();
    if (options.isDraining()) {
      results.shutdown = 'draining';
      failing.push('shutdown');
    }
    const ready = failing.length === 0;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', ...(ready ? {} : { failing }), checks: results });
  });
}
