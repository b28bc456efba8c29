#!/usr/bin/env node
// order-stream command line: one binary, one image, several roles and the tools around them.
import { ConfigError, loadConfig } from './config/index.js';

const USAGE = `usage: order-stream <command> [options]

roles (each serves /healthz, /readyz and /metrics on MANAGEMENT_PORT):
  api          the order and catalog REST API on PORT (bearer tokens unless AUTH_MODE=off)
  processor    the stream processor applying orders to PostgreSQL
  all          both roles in one process
  (roles take --demo-catalog: insert CATALOG-0001 … CATALOG-0010 when missing)

tools:
  migrate      the deploy step: apply database migrations, register the order schema, exit
  produce      generate orders into the topic   (order-stream produce --help)
  tail         print the topic as decoded JSON lines (order-stream tail --help)
  token        sign a development token (order-stream token --user U [--scope S]; not in production)

configuration comes from config/*.json and the environment; see README.md.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  switch (command) {
    case 'api':
    case 'processor':
    case 'all': {
      const { runService } = await import('./service.js');
      return runService(loadConfig(), command === 'all' ? ['api', 'processor'] : [command], { demoCatalog: args.includes('--demo-catalog') });
    }
    case 'migrate': {
      const { runMigrate } = await import('./cli/migrate.js');
      return runMigrate(loadConfig());
    }
    case 'produce': {
      const { runProduce } = await import('./cli/produce.js');
      return runProduce(args);
    }
    case 'token': {
      const { runToken } = await import('./cli/token.js');
      return runToken(args);
    }
    case 'tail': {
      const { runTail } = await import('./cli/tail.js');
      return runTail(args);
    }
    default:
      console.error(`order-stream: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exitCode = 78; // EX_CONFIG
    } else {
      console.error(`order-stream: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    }
  },
);
