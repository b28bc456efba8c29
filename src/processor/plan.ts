// The decision logic of the processor, pure: no I/O, no clock. Given one batch of decoded orders
// in consumption order (each partition's messages in offset order), the current stock of the
// products they touch and the orderIds already stored, decide every order's verdict.
import type { OrderCreated } from '../domain/order.js';

export type Status = 'ACCEPTED' | 'REJECTED';
export type Reason = 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT';

export interface BatchOrder {
  order: OrderCreated;
  partition: number;
  offset: number;
}

/** An order to store, with its verdict. */
export interface PlannedRow extends BatchOrder {
  status: Status;
  reason: Reason | null;
}

export type Verdict =
  | { orderId: string; status: 'ACCEPTED' }
  | { orderId: string; status: 'REJECTED'; reason: Reason }
  | { orderId: string; status: 'DUPLICATE' };

export interface Plan {
  /** One per input order, in input order. */
  verdicts: Verdict[];
  /** The orders to insert: every non-duplicate, in input order. */
  rows: PlannedRow[];
  /** Stock each product loses (only products with accepted orders). */
  stockDecrement: Map<string, number>;
}

/**
 * First come, first served: an order is ACCEPTED when its product exists and the stock left after
 * the orders before it in this batch covers its qty. An orderId already stored, or seen earlier in
 * the batch, is a DUPLICATE and changes nothing.
 */
export function plan(batch: readonly BatchOrder[], stock: ReadonlyMap<string, number>, existing: ReadonlySet<string>): Plan {
  const left = new Map(stock);
  const seen = new Set<string>();
  const verdicts: Verdict[] = [];
  const rows: PlannedRow[] = [];
  const stockDecrement = new Map<string, number>();

  for (const item of batch) {
    const { orderId, productId, qty } = item.order;
    if (existing.has(orderId) || seen.has(orderId)) {
      verdicts.push({ orderId, status: 'DUPLICATE' });
      continue;
    }
    seen.add(orderId);
    const available = left.get(productId);
    // Explicit objects rather than spreads: this loop runs for every order, and allocation is
    // what the profile of the processor showed after the database.
    if (available === undefined) {
      verdicts.push({ orderId, status: 'REJECTED', reason: 'UNKNOWN_PRODUCT' });
      rows.push({ order: item.order, partition: item.partition, offset: item.offset, status: 'REJECTED', reason: 'UNKNOWN_PRODUCT' });
    } else if (available < qty) {
      verdicts.push({ orderId, status: 'REJECTED', reason: 'OUT_OF_STOCK' });
      rows.push({ order: item.order, partition: item.partition, offset: item.offset, status: 'REJECTED', reason: 'OUT_OF_STOCK' });
    } else {
      left.set(productId, available - qty);
      stockDecrement.set(productId, (stockDecrement.get(productId) ?? 0) + qty);
      verdicts.push({ orderId, status: 'ACCEPTED' });
      rows.push({ order: item.order, partition: item.partition, offset: item.offset, status: 'ACCEPTED', reason: null });
    }
  }
  return { verdicts, rows, stockDecrement };
}

/**
 * A plan made without knowing that `stored` orderIds already exist, corrected cheaply: those orders
 * become DUPLICATE and leave the rows. That is exactly plan(batch, stock, stored) unless one of
 * them was ACCEPTED and a later order of the same product was refused OUT_OF_STOCK — the stock it
 * took would have served that order. Then undefined: the caller must plan again.
 */
export function markDuplicates(first: Plan, stored: ReadonlySet<string>): Plan | undefined {
  const freed = new Map<string, number>(); // product → stock the stored orders took in `first`
  for (const row of first.rows) {
    if (stored.has(row.order.orderId)) {
      if (row.status === 'ACCEPTED') freed.set(row.order.productId, (freed.get(row.order.productId) ?? 0) + row.order.qty);
    } else if (row.reason === 'OUT_OF_STOCK' && freed.has(row.order.productId)) {
      return undefined;
    }
  }
  const stockDecrement = new Map(first.stockDecrement);
  for (const [product, qty] of freed) {
    const left = stockDecrement.get(product)! - qty;
    if (left > 0) stockDecrement.set(product, left);
    else stockDecrement.delete(product);
  }
  return {
    verdicts: first.verdicts.map((v) => (stored.has(v.orderId) && v.status !== 'DUPLICATE' ? { orderId: v.orderId, status: 'DUPLICATE' } : v)),
    rows: first.rows.filter((r) => !stored.has(r.order.orderId)),
    stockDecrement,
  };
}
