// Stops and starts parts of the local stack from tests (chaos only): the same scripts as
// `npm run stack:up`, with the same STACK_DIR and ports.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;

async function script(component: 'kafka' | 'postgres' | 'registry', action: 'start' | 'stop'): Promise<void> {
  await run('bash', [`${root}scripts/stack/${component}/${action}.sh`], { env: { ...process.env, STACK_DIR: process.env.STACK_DIR ?? `${root}.stack` }, timeout: 180_000 });
}

export const stopKafka = () => script('kafka', 'stop');
export const startKafka = () => script('kafka', 'start');
export const stopPostgres = () => script('postgres', 'stop');
export const startPostgres = () => script('postgres', 'start');
