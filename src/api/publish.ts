// The write path every command route shares: encode (Avro) → produce (acks=all, key = productId,
// so every stock change of a product lands in one partition in order) → optionally wait for the
// processor's verdict (`Prefer: wait=N`, RFC 7240). A 2xx is only ever answered after Kafka
// acknowledged the event; when it cannot, the route answers 503 and the client retries with the
// same Idempotency-Key, which gives the same event id, so the event is applied at most once.
import type { FastifyBaseLogger } from 'fastify';
import type { DeliveryTracker } from '../kafka/delivery.js';
import { SchemaNotResolvedError, type OrderSerde } from '../serde/order-serde.js';
import type { OrderEvent } from '../domain/order.js';
import { AWAITED_HEADER, type Verdict } from '../domain/verdict.js';
import type { VerdictWaiter } from './verdict-waiter.js';
import { dependencyUnavailable } from './errors.js';
import { withTimeout } from '../timeout.js';

export interface PublishOptions {
  serde: OrderSerde;
  delivery: DeliveryTracker;
  waiter: VerdictWaiter;
  topic: string;
  produceTimeoutMs: number;
}

/** What a publish came to: `waited` is false when the client did not ask to wait. */
export type Published = { waited: false } | { waited: true; verdict: Verdict | undefined };

/** RFC 7240 `Prefer: wait=N`, capped; undefined when absent. */
export function preferredWaitSeconds(prefer: string | undefined, max: number): number | undefined {
  const match = prefer?.match(/(?:^|[,;\s])wait\s*=\s*"?(\d{1,6})"?/i);
  return match ? Math.min(Number(match[1]), max) : undefined;
}

export class Publisher {
  constructor(private readonly options: PublishOptions) {}

  /**
   * Makes the event durable in Kafka, then waits up to waitSeconds for the verdict on `id`.
   * Throws a 503 HttpError when Kafka did not acknowledge it in time, and never after: once it
   * returns, the event is durable and the route must answer 2xx (PENDING when it knows no more).
   */
  async publish(e: OrderEvent, id: string, waitSeconds: number | undefined, log: FastifyBaseLogger): Promise<Published> {
    const { serde, delivery, waiter, topic, produceTimeoutMs } = this.options;
    let value: Buffer;
    try {
      value = serde.encode(e);
    } catch (err) {
      // Start-up has not found the schema id yet (the registry is down or lacks our schema).
      if (!(err instanceof SchemaNotResolvedError)) throw err;
      throw dependencyUnavailable('registry', `the schema id of ${e.type} events is not known yet; retry with the same Idempotency-Key`, 2);
    }
    // Registered before producing, so a verdict that arrives before the acknowledgement is not missed.
    const waiting = waitSeconds ? waiter.wait(id, waitSeconds * 1000) : undefined;
    try {
      // librdkafka gives up at produceTimeoutMs (message.timeout.ms); the timer is only a safety net.
      const headers = waiting ? [{ [AWAITED_HEADER]: '1' }] : undefined;
      await withTimeout(delivery.send({ topic, key: e.event.productId, value, headers }), produceTimeoutMs + 1000, 'no acknowledgement');
    } catch (err) {
      waiting?.cancel();
      log.warn({ err: (err as Error).message, type: e.type, id }, 'event not acknowledged by Kafka');
      throw dependencyUnavailable('kafka', `the ${e.type} event could not be made durable; retry with the same Idempotency-Key`, 2);
    }
    // Not asked to wait, or the replica's waiters are at their cap: 202 PENDING at once.
    if (!waiting) return { waited: false };
    return { waited: true, verdict: await waiting.verdict };
  }
}
