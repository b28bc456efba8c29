// Readiness checks of one process: each names a dependency (postgres, kafka, registry, the
// consumer group, the verdict listener) and resolves when it is usable. Neutral ground: /readyz
// (src/api/health.ts) answers with them, and the composition root feeds them to the
// orderstream_dependency_up gauge, so neither metrics nor the api depends on the other for them.
import { withTimeout } from '../timeout.js';

export type Check = () => Promise<void>;

/** Runs every check at once; each result is 'ok' or the reason it failed. */
export async function runChecks(checks: Record<string, Check>, timeoutMs = 2000): Promise<Record<string, string>> {
  const results: Record<string, string> = {};
  await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), timeoutMs);
        results[name] = 'ok';
      } catch (err) {
        results[name] = (err as Error).message;
      }
    }),
  );
  return results;
}
