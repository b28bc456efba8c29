// Part of the composition root: brings a role's dependencies up one step after another, in the
// background, while the role already answers /healthz, /readyz and /metrics. Each step is retried
// with the service's retry policy (src/retry.ts) for as long as its dependency is down or slow:
// a role never exits because PostgreSQL, Kafka or the registry is not there yet. /readyz names the
// step waited for and why (the `startup` check); each attempt is logged, at most every few seconds.
import type { Logger } from '../logger.js';
import type { Check } from '../health/checks.js';
import { atMostEvery, DEPENDENCY_BACKOFF, retry, type Failure } from '../retry.js';

export interface Step {
  /** What the step does, in /readyz and the logs: "database migrations", "consumer group join". */
  name: string;
  /** The dependency it waits for. */
  needs: 'postgres' | 'kafka' | 'registry';
  run: () => Promise<void>;
}

/** A bug, not an outage: waiting cannot fix it, so start-up fails (and the role exits). */
const isProgrammingError = (err: Error) => err instanceof TypeError || err instanceof ReferenceError || err instanceof SyntaxError;

export class Startup {
  private step: Step | undefined;
  private why = 'not started yet';
  private finished = false;
  private readonly stopping = new AbortController();

  constructor(private readonly log: Logger) {}

  /** Resolves true once every step ran, false if stop() came first; rejects on a programming error. */
  async run(steps: Step[]): Promise<boolean> {
    for (const step of steps) {
      this.step = step;
      this.why = 'first attempt in progress';
      const logFailure = atMostEvery(5000, (suppressed, { err, attempt, delayMs }: Failure) =>
        this.log.warn({ step: step.name, needs: step.needs, err: err.message, attempt, delayMs, ...(suppressed ? { suppressed } : {}) }, `start-up waits for ${step.needs}: ${step.name} failed, retrying`),
      );
      try {
        await retry(step.run, {
          what: step.name,
          backoff: DEPENDENCY_BACKOFF,
          signal: this.stopping.signal,
          isPermanent: isProgrammingError,
          onRetry: (failure) => {
            this.why = `${failure.err.message} (attempt ${failure.attempt}, next in ${failure.delayMs} ms)`;
            logFailure(failure);
          },
        });
      } catch (err) {
        if (this.stopping.signal.aborted) return false;
        throw err;
      }
      this.log.info({ step: step.name }, 'start-up step done');
    }
    this.step = undefined;
    this.finished = true;
    return true;
  }

  /** Readiness: fails, naming the step and why, until every step ran. */
  readonly check: Check = async () => {
    if (this.finished) return;
    throw new Error(this.step ? `waiting for ${this.step.needs}: ${this.step.name}: ${this.why}` : this.why);
  };

  /** The dependency waited for, while starting (the api answers 503 naming it). */
  get waitingFor(): Step['needs'] | undefined {
    return this.finished ? undefined : (this.step?.needs ?? 'postgres');
  }

  /** Ends the waiting between attempts; run() resolves false after the attempt in flight. */
  stop(): void {
    this.stopping.abort();
  }
}
