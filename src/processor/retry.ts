// Transient failures (database or broker down, deadlock, serialization failure, registry
// unreachable) are retried with capped exponential backoff, forever: skipping would lose orders.
// Only shutdown ends the retrying, leaving the batch uncommitted to be redelivered.

export class Stopped extends Error {
  override readonly name = 'Stopped';
}

export interface RetryOptions {
  what: string;
  isStopping: () => boolean;
  onRetry: (err: Error, attempt: number, delayMs: number) => void;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export async function retryTransient<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 5000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (options.isStopping()) throw new Stopped(`${options.what}: stopped while retrying`);
      const delayMs = Math.min(max, initial * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      options.onRetry(err as Error, attempt, Math.round(delayMs));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (options.isStopping()) throw new Stopped(`${options.what}: stopped while retrying`);
    }
  }
}
