// Whether the API takes requests: closed while the role starts (its dependencies are not all up:
// 503 naming the one waited for), open once start-up is done, closed again on shutdown (503, and
// close() waits for the requests already in flight). Health and metrics are not behind it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError, dependencyUnavailable, type Dependency } from './errors.js';

type State = 'starting' | 'open' | 'closed';

export class Gate {
  private state: State = 'starting';
  private inFlight = 0;
  private idle: Array<() => void> = [];

  /** `waitingFor` names the dependency start-up waits for. */
  constructor(private readonly waitingFor: () => Dependency | undefined) {}

  open(): void {
    if (this.state === 'starting') this.state = 'open';
  }

  /** New requests are refused from now on; resolves when those in flight have been answered. */
  async close(): Promise<void> {
    this.state = 'closed';
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** An onRequest hook for the API's routes. */
  readonly onRequest = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    if (this.state === 'starting') {
      const dependency = this.waitingFor() ?? 'postgres';
      return done(dependencyUnavailable(dependency, `starting: waiting for ${dependency}; see /readyz`, 2));
    }
    if (this.state === 'closed') return done(new HttpError(503, 'this replica is shutting down; retry, another replica answers', { 'retry-after': '1' }));
    this.inFlight++;
    // 'close' fires once however the exchange ends (answered, or the client went away).
    reply.raw.once('close', () => {
      if (--this.inFlight === 0) this.idle.splice(0).forEach((resolve) => resolve());
    });
    void request;
    done();
  };
}
