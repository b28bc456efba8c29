import { expect } from 'chai';
import { createLogger } from '../../src/logger.js';
import { Startup, type Step } from '../../src/service/startup.js';
import { Shutdown } from '../../src/service/shutdown.js';
import { Gate } from '../../src/api/gate.js';

const log = createLogger('silent');

describe('Startup (steps retried in the background)', () => {
  it('runs the steps in order, retrying a failing one, and names it in readiness meanwhile', async () => {
    const ran: string[] = [];
    let dbUp = false;
    const startup = new Startup(log);
    const steps: Step[] = [
      { name: 'migrations', needs: 'postgres', run: async () => { if (!dbUp) throw new Error('connect ECONNREFUSED'); ran.push('migrations'); } },
      { name: 'topics', needs: 'kafka', run: async () => void ran.push('topics') },
    ];
    const done = startup.run(steps);
    const why = await startup.check().catch((err: Error) => err.message);
    expect(why).to.match(/^waiting for postgres: migrations: /);
    expect(startup.waitingFor).to.equal('postgres');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await startup.check().catch((err: Error) => err.message)).to.contain('connect ECONNREFUSED (attempt 1');
    dbUp = true;
    expect(await done).to.equal(true);
    expect(ran).to.deep.equal(['migrations', 'topics']);
    await startup.check();
    expect(startup.waitingFor).to.equal(undefined);
  });

  it('resolves false when stopped while waiting, without running the later steps', async () => {
    const startup = new Startup(log);
    let later = false;
    const done = startup.run([
      { name: 'schema look-up', needs: 'registry', run: async () => Promise.reject(new Error('registry unreachable')) },
      { name: 'consumer', needs: 'kafka', run: async () => void (later = true) },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    startup.stop();
    expect(await done).to.equal(false);
    expect(later).to.equal(false);
  });

  it('fails on a programming error instead of retrying it', async () => {
    const startup = new Startup(log);
    let calls = 0;
    const outcome = await startup.run([{ name: 'bug', needs: 'postgres', run: async () => { calls++; throw new TypeError('x is not a function'); } }]).catch((err: Error) => err);
    expect((outcome as Error).message).to.equal('bug: x is not a function');
    expect(calls).to.equal(1);
  });
});

describe('Shutdown', () => {
  it('stops what started, last first, and carries on past a part that fails to stop', async () => {
    const stopped: string[] = [];
    const shutdown = new Shutdown(log);
    shutdown.started('pool', async () => void stopped.push('pool'));
    shutdown.started('http', async () => { stopped.push('http'); throw new Error('already closed'); });
    shutdown.started('processor', async () => void stopped.push('processor'));
    await shutdown.run();
    await shutdown.run(); // each part once
    expect(stopped).to.deep.equal(['processor', 'http', 'pool']);
  });
});

describe('Gate (the API while starting and stopping)', () => {
  const request = {} as never;
  const reply = () => {
    const listeners: Array<() => void> = [];
    return { raw: { once: (_event: string, listener: () => void) => listeners.push(listener) }, finish: () => listeners.forEach((l) => l()) };
  };

  /** What the hook passed to done: the refusal, or undefined when it let the request through. */
  const decide = (gate: Gate, r: ReturnType<typeof reply>) => {
    let outcome: unknown = 'done not called';
    gate.onRequest(request, r as never, (err) => (outcome = err));
    return outcome as { statusCode: number; dependency?: string } | undefined;
  };

  it('answers 503 naming the dependency while starting, passes requests once open, and waits for them on close', async () => {
    const gate = new Gate(() => 'kafka');
    expect(decide(gate, reply())).to.include({ statusCode: 503, dependency: 'kafka' });

    gate.open();
    const inFlight = reply();
    expect(decide(gate, inFlight), 'an open gate lets the request through').to.equal(undefined);
    let closed = false;
    const closing = gate.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed, 'close waits for the request in flight').to.equal(false);
    expect(decide(gate, reply())?.statusCode).to.equal(503);
    inFlight.finish();
    await closing;
    expect(closed).to.equal(true);
  });
});
