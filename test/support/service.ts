// In-process roles for integration tests: startService listens at once and brings its
// dependencies up in the background; most tests want the role started before they use it.
import { expect } from 'chai';
import type { Config } from '../../src/config/index.js';
import { startService, type Role, type RunningService } from '../../src/service.js';

export type { RunningService } from '../../src/service.js';

/** A role with every start-up step done and its API open. */
export async function startedService(config: Config, roles: Role[]): Promise<RunningService> {
  const service = await startService(config, roles);
  expect(await service.started, 'start-up finished').to.equal(true);
  return service;
}
