// The one way tests wait: poll an observable condition (a database count, a status, a process
// table) until it holds, or fail naming what was awaited and the last value seen.

/** Polls `probe` until `done(value)`; throws with `what` and the last value after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T> | T, done: (value: T) => boolean, timeoutMs = 60_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
