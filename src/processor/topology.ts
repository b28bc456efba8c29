// The processor's topology, pure (Kafka Streams' split of topology and I/O):
//
//   messages ──route──► events ──plan(events, state)──► rows, cancellations, restocks, stock change,
//       │                                                verdicts  ──► apply (one transaction)
//       └──► dead letters (not the wire format, unknown schema, not a valid event)
//
// route() needs the decoder only after the serde has prepared the writer schemas of the messages
// (the fetch loop does, per consume call), so it never waits on I/O; plan() is in plan.ts. What the apply step must read first is named here too.
import { invalidEvent, type OrderEvent } from '../domain/order.js';
import { AWAITED_HEADER } from '../domain/verdict.js';
import type { Message } from '../kafka/clients.js';
import type { DeadLetter } from './dlq.js';
import type { BatchEvent } from './plan.js';

export interface Routed {
  events: BatchEvent[];
  deadLetters: DeadLetter[];
}

/** A message as a lane holds it until its batch is cut: decoded, or a dead letter. */
export type RoutedMessage = BatchEvent | DeadLetter;

const EMPTY = Buffer.alloc(0);

/** Decodes and validates one message; one that can never be applied becomes a dead letter. */
export function route(message: Message, decode: (value: Buffer) => OrderEvent): RoutedMessage {
  let decoded: OrderEvent;
  try {
    decoded = decode(message.value ?? EMPTY);
  } catch (err) {
    return { message, error: (err as Error).name, reason: (err as Error).message };
  }
  const invalid = invalidEvent(decoded);
  if (invalid) return { message, error: 'InvalidField', reason: invalid };
  const routed = { type: decoded.type, event: decoded.event, partition: message.partition, offset: message.offset } as BatchEvent;
  if (message.headers?.some((h) => AWAITED_HEADER in h)) routed.awaited = true;
  return routed;
}

export const isDeadLetter = (item: RoutedMessage): item is DeadLetter => 'message' in item;

/** A batch's items split into the events to apply and the dead letters, each in input order. */
export function split(items: readonly RoutedMessage[]): Routed {
  const routed: Routed = { events: [], deadLetters: [] };
  for (const item of items) {
    if (isDeadLetter(item)) routed.deadLetters.push(item);
    else routed.events.push(item);
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
