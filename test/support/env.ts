// Integration tests run against the real servers of `npm run stack:up`; scripts/test.sh exports
// .stack/env. Run a single file by hand with: set -a; . .stack/env; npx mocha <file>
import { loadConfig, type Config } from '../../src/config/index.js';

export function stackConfig(overrides: Record<string, string> = {}): Config {
  for (const name of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_URL']) {
    if (!process.env[name]) throw new Error(`${name} is not set: run the integration tests through npm test, or source .stack/env`);
  }
  return loadConfig({ NODE_ENV: 'test', ...process.env, ...overrides });
}

/** A name no other test (or earlier run) has used, for topics, groups and tables. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
