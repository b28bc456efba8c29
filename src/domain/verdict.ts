// What the processor decided about each event, and how that decision travels to api replicas
// waiting on `Prefer: wait` (PostgreSQL NOTIFY, sent inside the apply transaction).
//
// Every event has an id: orderId (OrderCreated), cancellationId (OrderCancelled), restockId
// (StockAdded). A verdict names that id and one outcome:
//   ACCEPTED             order stored, stock taken
//   REJECTED  + reason   order stored, nothing taken: OUT_OF_STOCK, UNKNOWN_PRODUCT, PRICE_MISMATCH
//   CANCELLED            the order's qty went back to stock
//   STOCKED              the restock was added to the product's stock
//   REFUSED   + reason   nothing changed: ALREADY_CANCELLED, NOT_ACCEPTED (a REJECTED order),
//                        UNKNOWN_ORDER (cancellation), UNKNOWN_PRODUCT (restock)
//   DUPLICATE            this event id was applied before; read the stored state

import type { EventType } from './order.js';

/** The stored state of an order. PENDING is the api's word for "not applied yet". */
export type OrderStatus = 'ACCEPTED' | 'REJECTED' | 'CANCELLED';
export type RejectReason = 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT' | 'PRICE_MISMATCH';
export type RefusalReason = 'ALREADY_CANCELLED' | 'NOT_ACCEPTED' | 'UNKNOWN_ORDER' | 'UNKNOWN_PRODUCT';

/** A decision without the event it is about. */
export type Decision =
  | { outcome: 'ACCEPTED' | 'CANCELLED' | 'STOCKED' | 'DUPLICATE' }
  | { outcome: 'REJECTED'; reason: RejectReason }
  | { outcome: 'REFUSED'; reason: RefusalReason };

export type Verdict = Decision & { id: string };

export type Outcome = Verdict['outcome'];
export const OUTCOMES: readonly Outcome[] = ['ACCEPTED', 'REJECTED', 'CANCELLED', 'STOCKED', 'REFUSED', 'DUPLICATE'];

/** What each event type can come to. */
export const OUTCOMES_OF: Readonly<Record<EventType, readonly Outcome[]>> = {
  OrderCreated: ['ACCEPTED', 'REJECTED', 'DUPLICATE'],
  OrderCancelled: ['CANCELLED', 'REFUSED', 'DUPLICATE'],
  StockAdded: ['STOCKED', 'REFUSED', 'DUPLICATE'],
};

// The NOTIFY codec. Channel `order_verdicts`; payload: comma-separated entries <id><code>, packed
// under PostgreSQL's 8000-byte NOTIFY payload limit. One letter per (outcome, reason):
const CODES: ReadonlyArray<readonly [string, Decision]> = [
  ['A', { outcome: 'ACCEPTED' }],
  ['O', { outcome: 'REJECTED', reason: 'OUT_OF_STOCK' }],
  ['U', { outcome: 'REJECTED', reason: 'UNKNOWN_PRODUCT' }],
  ['P', { outcome: 'REJECTED', reason: 'PRICE_MISMATCH' }],
  ['C', { outcome: 'CANCELLED' }],
  ['S', { outcome: 'STOCKED' }],
  ['K', { outcome: 'REFUSED', reason: 'ALREADY_CANCELLED' }],
  ['N', { outcome: 'REFUSED', reason: 'NOT_ACCEPTED' }],
  ['X', { outcome: 'REFUSED', reason: 'UNKNOWN_ORDER' }],
  ['Q', { outcome: 'REFUSED', reason: 'UNKNOWN_PRODUCT' }],
  ['D', { outcome: 'DUPLICATE' }],
];
export const VERDICT_CHANNEL = 'order_verdicts';
/**
 * Kafka header the api puts on an event a request waits for (`Prefer: wait`). Only those verdicts
 * are notified: a bulk drain then sends no NOTIFY, which PostgreSQL serialises at commit across
 * all notifying transactions. An event without it (another producer, an older api) is applied
 * the same; a request waiting on it would time out into 202 PENDING.
 */
export const AWAITED_HEADER = 'orderstream-awaited';
const MAX_PAYLOAD = 7900;

const keyOf = (v: Decision) => `${v.outcome}/${'reason' in v ? v.reason : ''}`;
const CODE_OF = new Map(CODES.map(([code, v]) => [keyOf(v), code]));
const VERDICT_OF = new Map(CODES);

export function packVerdicts(verdicts: readonly Verdict[]): string[] {
  const payloads: string[] = [];
  let current = '';
  for (const verdict of verdicts) {
    const entry = verdict.id + CODE_OF.get(keyOf(verdict))!;
    if (current.length + entry.length + 1 > MAX_PAYLOAD) {
      payloads.push(current);
      current = '';
    }
    current = current ? `${current},${entry}` : entry;
  }
  if (current) payloads.push(current);
  return payloads;
}

/** Entries with an unknown code (a newer processor) are skipped: the waiter times out into PENDING. */
export function unpackVerdicts(payload: string): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const entry of payload.split(',')) {
    const known = VERDICT_OF.get(entry.slice(-1));
    if (known && entry.length > 1) verdicts.push({ id: entry.slice(0, -1), ...known } as Verdict);
  }
  return verdicts;
}
