import { expect } from 'chai';
import { atMostEvery, backoffDelay, retry, Stopped } from '../../src/retry.js';

describe('retry (the one retry policy)', () => {
  it('retries until the work succeeds, reporting each failure with a growing, capped delay', async () => {
    let calls = 0;
    const delays: number[] = [];
    const result = await retry(
      async () => {
        if (++calls < 5) throw new Error(`fail ${calls}`);
        return 'done';
      },
      { what: 'test', backoff: { initialMs: 2, maxMs: 8 }, onRetry: ({ delayMs }) => delays.push(delayMs) },
    );
    expect(result).to.equal('done');
    expect(calls).to.equal(5);
    // Jittered into [half, full] of 2, 4, 8, 8 ms.
    expect(delays).to.have.length(4);
    [2, 4, 8, 8].forEach((full, i) => expect(delays[i]).to.be.within(full / 2, full));
  });

  it('jitters between half and the full capped delay', () => {
    const backoff = { initialMs: 500, maxMs: 15_000 };
    expect(backoffDelay(1, backoff, () => 0)).to.equal(250);
    expect(backoffDelay(1, backoff, () => 1)).to.equal(500);
    expect(backoffDelay(3, backoff, () => 1)).to.equal(2000);
    expect(backoffDelay(10, backoff, () => 1)).to.equal(15_000);
    expect(backoffDelay(1000, backoff, () => 0)).to.equal(7500);
  });

  it('gives up with Stopped, not the last error, once shutdown begins', async () => {
    let stopping = false;
    const error = await retry(
      async () => {
        stopping = true;
        throw new Error('database down');
      },
      { what: 'batch apply', isStopping: () => stopping, backoff: { initialMs: 1, maxMs: 1 } },
    ).catch((err: unknown) => err);
    expect(error).to.be.instanceOf(Stopped);
    expect((error as Error).message).to.contain('batch apply');
  });

  it('ends the wait between attempts at once when its signal is aborted', async () => {
    const stop = new AbortController();
    const startedAt = Date.now();
    const attempt = retry(async () => Promise.reject(new Error('down')), { what: 'schema look-up', signal: stop.signal, backoff: { initialMs: 60_000, maxMs: 60_000 } });
    setImmediate(() => stop.abort());
    expect(await attempt.catch((err: unknown) => err)).to.be.instanceOf(Stopped);
    expect(Date.now() - startedAt).to.be.below(1000);
  });

  it('gives up after giveUpAfterMs with the last error named, and at once on a permanent one', async () => {
    let calls = 0;
    const bounded = await retry(async () => Promise.reject(new Error(`refused ${++calls}`)), { what: 'migrations', giveUpAfterMs: 30, backoff: { initialMs: 5, maxMs: 5 } }).catch((err: Error) => err);
    expect((bounded as Error).message).to.match(/^migrations: gave up after \d+ attempts: refused \d+$/);
    expect(calls).to.be.within(2, 13); // delays of 2.5-5 ms within 30 ms

    calls = 0;
    const permanent = await retry(async () => Promise.reject(new Error(`409 ${++calls}`)), { what: 'registering', isPermanent: (err) => err.message.startsWith('409'), backoff: { initialMs: 1, maxMs: 1 } }).catch((err: Error) => err);
    expect((permanent as Error).message).to.equal('registering: 409 1');
    expect(calls).to.equal(1);
  });
});

describe('atMostEvery (rate-limited retry logs)', () => {
  it('runs at most once per interval and passes on how many calls it suppressed', async () => {
    const lines: Array<[number, string]> = [];
    const log = atMostEvery(40, (suppressed, what: string) => lines.push([suppressed, what]));
    log('a');
    log('b');
    log('c');
    await new Promise((resolve) => setTimeout(resolve, 60));
    log('d');
    expect(lines).to.deep.equal([[0, 'a'], [2, 'd']]);
  });
});
