// The processor's topology, pure (Kafka Streams' split of topology and I/O):
//
//   messages ──route──► events ──plan(events, state)──► rows, cancellations, restocks, stock change,
//       │                                                verdicts  ──► apply (one transaction)
//       └──► dead letters (not the wire format, unknown schema, not a valid event)
//
// route() needs the decoder only after the serde has prepared this batch's writer schemas, so it
// never waits on I/O; plan() is in plan.ts. What the apply step must read first is named here too.
import { invalidEvent, type OrderEvent } from '../domain/order.js';
import type { Message } from '../kafka/clients.js';
import type { DeadLetter } from './dlq.js';
import type { BatchEvent } from './plan.js';

export interface Routed {
  events: BatchEvent[];
  deadLetters: DeadLetter[];
}

const EMPTY = Buffer.alloc(0);

/** Decodes and validates each message; those that can never be applied become dead letters. */
export function route(messages: readonly Message[], decode: (value: Buffer) => OrderEvent): Routed {
  const routed: Routed = { events: [], deadLetters: [] };
  for (const message of messages) {
    let decoded: OrderEvent;
    try {
      decoded = decode(message.value ?? EMPTY);
    } catch (err) {
      routed.deadLetters.push({ message, error: (err as Error).name, reason: (err as Error).message });
      continue;
    }
    const invalid = invalidEvent(decoded);
    if (invalid) routed.deadLetters.push({ message, error: 'InvalidField', reason: invalid });
    else routed.events.push({ type: decoded.type, event: decoded.event, partition: message.partition, offset: message.offset } as BatchEvent);
  }
  return routed;
}

/** What plan() needs read from the database: the products touched, the orders cancellations name. */
export function readSet(events: readonly BatchEvent[]): { productIds: string[]; cancelledOrderIds: string[] } {
  const products = new Set<string>();
  const orders = new Set<string>();
  for (const e of events) {
    products.add(e.event.productId);
    if (e.type === 'OrderCancelled') orders.add(e.event.orderId);
  }
  return { productIds: [...products], cancelledOrderIds: [...orders] };
}
