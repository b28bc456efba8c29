// Part of the composition root: what started is stopped in the reverse order, each part once.
// A part registers its stop when it has started, so a role stopped half-way through start-up
// stops exactly what it started.
import type { Logger } from '../logger.js';

export class Shutdown {
  private readonly parts: Array<{ name: string; stop: () => Promise<unknown> }> = [];

  constructor(private readonly log: Logger) {}

  /** Called once `name` has started. */
  started(name: string, stop: () => Promise<unknown>): void {
    this.parts.push({ name, stop });
  }

  /** Stops every part, last started first; a part that fails to stop does not keep the others running. */
  async run(): Promise<void> {
    for (let part = this.parts.pop(); part; part = this.parts.pop()) {
      try {
        await part.stop();
        this.log.debug({ part: part.name }, 'stopped');
      } catch (err) {
        this.log.warn({ part: part.name, err: (err as Error).message }, 'stopping failed');
      }
    }
  }
}
