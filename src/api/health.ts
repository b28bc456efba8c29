// /healthz answers while the process runs; /readyz answers 200 only when every dependency this
// role needs is usable, so Kubernetes sends traffic (api) or counts the pod ready (processor).
// An encapsulated plugin: it can be registered on the instance that serves the API or on a
// separate management instance.
import type { FastifyInstance } from 'fastify';
import { runChecks, type Check } from '../health/checks.js';

export interface HealthOptions {
  checks: Record<string, Check>;
  /** Set on shutdown so the load balancer drains this instance before it stops listening. */
  isDraining: () => boolean;
  /** Checks shown in /readyz but not required for readiness: the role keeps working without them. */
  advisory?: readonly string[];
}

/** A check slower than this is reported failed: /readyz answers within Kubernetes' probe timeout. */
const CHECK_TIMEOUT_MS = 2000;

export async function health(app: FastifyInstance, options: HealthOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const results = await runChecks(options.checks, CHECK_TIMEOUT_MS);
    // `failing` names what makes this replica not ready (startup, postgres, kafka, …); `checks`
    // says why, advisory checks included.
    const failing = Object.keys(results).filter((name) => results[name] !== 'ok' && !options.advisory?.includes(name)).sort();
    if (options.isDraining()) {
      results.shutdown = 'draining';
      failing.push('shutdown');
    }
    const ready = failing.length === 0;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', ...(ready ? {} : { failing }), checks: results });
  });
}
