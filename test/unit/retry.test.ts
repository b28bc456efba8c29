import { expect } from 'chai';
import { retryTransient, Stopped } from '../../src/processor/retry.js';

describe('retryTransient', () => {
  it('retries until the work succeeds, reporting each failure with a growing, capped delay', async () => {
    let calls = 0;
    const delays: number[] = [];
    const result = await retryTransient(
      async () => {
        if (++calls < 5) throw new Error(`fail ${calls}`);
        return 'done';
      },
      { what: 'test', isStopping: () => false, onRetry: (_err, _attempt, delayMs) => delays.push(delayMs), initialDelayMs: 1, maxDelayMs: 4 },
    );
    expect(result).to.equal('done');
    expect(calls).to.equal(5);
    expect(delays).to.have.length(4);
    // Jittered into [half, full] of 1, 2, 4, 4 ms.
    [1, 2, 4, 4].forEach((full, i) => expect(delays[i]).to.be.within(Math.floor(full / 2), full));
  });

  it('gives up with Stopped, not the last error, once shutdown begins', async () => {
    let stopping = false;
    let error: unknown;
    try {
      await retryTransient(
        async () => {
          stopping = true;
          throw new Error('database down');
        },
        { what: 'batch apply', isStopping: () => stopping, onRetry: () => undefined, initialDelayMs: 1 },
      );
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(Stopped);
    expect((error as Error).message).to.contain('batch apply');
  });
});
