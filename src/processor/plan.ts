// The decision logic of the processor, pure: no I/O, no clock. Given one batch of events in
// consumption order (each partition's messages in offset order; every event of a product is in
// one partition) and what the database holds for them, decide every event's verdict and exactly
// what the apply step writes: order rows to insert, stored orders to cancel, restocks to record and
// the net stock change of each product. The SQL writes these numbers; it decides nothing.
import type { OrderCancelled, OrderCreated, OrderEvent, StockAdded } from '../domain/order.js';
import type { OrderStatus, RejectReason, Verdict } from '../domain/verdict.js';

/** Where an event came from: stored with the rows so operators can trace them back to Kafka. */
export interface Source {
  partition: number;
  offset: number;
  /** A request waits for this event's verdict (the api's AWAITED_HEADER): notify it. */
  awaited?: true;
}

export type BatchEvent = OrderEvent & Source;

/** A product as locked for this batch. */
export interface Product {
  stock: number;
  unitPrice: number;
}

/** An order already stored, as far as a cancellation needs to know it. */
export interface StoredOrder {
  userId: string;
  productId: string;
  qty: number;
  status: OrderStatus;
  cancellationId: string | null;
}

export interface State {
  catalog: ReadonlyMap<string, Product>;
  /** Stored orders that this batch's cancellations (or creations) name. */
  orders: ReadonlyMap<string, StoredOrder>;
  /** Event ids (orderId, restockId) known to be stored already: their events are DUPLICATE. */
  stored: ReadonlySet<string>;
}

export interface OrderRow extends Source {
  order: OrderCreated;
  status: OrderStatus;
  reason: RejectReason | null;
  /** Set when the order is created and cancelled within the batch. */
  cancellation: { cancellationId: string; cancelledAt: number } | null;
}

export interface CancelRow {
  orderId: string;
  cancellationId: string;
  cancelledAt: number;
}

export interface RestockRow extends Source {
  restock: StockAdded;
  status: 'STOCKED' | 'REFUSED';
}

export interface Plan {
  /** One per input event, in input order. */
  verdicts: Verdict[];
  /** Orders to insert, in input order. */
  orderRows: OrderRow[];
  /** Stored orders that become CANCELLED. */
  cancelRows: CancelRow[];
  /** Restocks to record (refused ones too, so a replay is recognised). */
  restockRows: RestockRow[];
  /** Net stock change per product; products with no change are absent. */
  stockChange: Map<string, number>;
}

/**
 * First come, first served per product: an order is ACCEPTED when its product exists, its
 * unitPrice is the catalog's, and the stock left after the events before it covers its qty.
 * A cancellation gives an ACCEPTED order's qty back; a restock adds to the product's stock. An
 * event id already stored, or seen earlier in the batch, is a DUPLICATE and changes nothing.
 */
export function plan(batch: readonly BatchEvent[], state: State): Plan {
  const left = new Map<string, number>();
  for (const [id, product] of state.catalog) left.set(id, product.stock);
  // Orders this batch creates, by id: the row itself is what a later cancellation reads and changes
  // (no second object per order), and a second creation of the id is a duplicate; inView holds the
  // stored orders a cancellation touched.
  const rows = new Map<string, OrderRow>();
  const restocksSeen = new Set<string>();
  // Stored orders this batch cancelled, as they are now.
  const inView = new Map<string, StoredOrder>();
  const result: Plan = { verdicts: [], orderRows: [], cancelRows: [], restockRows: [], stockChange: new Map() };
  const change = (productId: string, by: number) => {
    left.set(productId, (left.get(productId) ?? 0) + by);
    result.stockChange.set(productId, (result.stockChange.get(productId) ?? 0) + by);
  };

  for (const item of batch) {
    switch (item.type) {
      case 'OrderCreated':
        create(item.event, item);
        break;
      case 'OrderCancelled':
        cancel(item.event);
        break;
      case 'StockAdded':
        restock(item.event, item);
        break;
    }
  }
  for (const [productId, by] of result.stockChange) if (by === 0) result.stockChange.delete(productId);
  return result;

  function create(order: OrderCreated, source: Source): void {
    const id = order.orderId;
    if (state.stored.has(id) || state.orders.has(id) || rows.has(id)) return void result.verdicts.push({ id, outcome: 'DUPLICATE' });
    const product = state.catalog.get(order.productId);
    // Explicit objects rather than spreads: this runs for every order, and allocation showed in profiles.
    let reason: RejectReason | null = null;
    if (product === undefined) reason = 'UNKNOWN_PRODUCT';
    else if (product.unitPrice !== order.unitPrice) reason = 'PRICE_MISMATCH';
    else if (left.get(order.productId)! < order.qty) reason = 'OUT_OF_STOCK';
    const row: OrderRow = { order, partition: source.partition, offset: source.offset, status: reason ? 'REJECTED' : 'ACCEPTED', reason, cancellation: null };
    result.orderRows.push(row);
    rows.set(id, row);
    if (reason) return void result.verdicts.push({ id, outcome: 'REJECTED', reason });
    change(order.productId, -order.qty);
    result.verdicts.push({ id, outcome: 'ACCEPTED' });
  }

  function cancel(c: OrderCancelled): void {
    const id = c.cancellationId;
    const row = rows.get(c.orderId);
    const target = row ? targetOf(row) : (inView.get(c.orderId) ?? state.orders.get(c.orderId));
    // Another user's order, or one of another product, is unknown to this user: say nothing more.
    if (!target || target.userId !== c.userId || target.productId !== c.productId) return void result.verdicts.push({ id, outcome: 'REFUSED', reason: 'UNKNOWN_ORDER' });
    if (target.status === 'CANCELLED') {
      return void result.verdicts.push(target.cancellationId === id ? { id, outcome: 'DUPLICATE' } : { id, outcome: 'REFUSED', reason: 'ALREADY_CANCELLED' });
    }
    if (target.status === 'REJECTED') return void result.verdicts.push({ id, outcome: 'REFUSED', reason: 'NOT_ACCEPTED' });
    if (row) {
      row.status = 'CANCELLED';
      row.cancellation = { cancellationId: id, cancelledAt: c.cancelledAt };
    } else {
      inView.set(c.orderId, { ...target, status: 'CANCELLED', cancellationId: id });
      result.cancelRows.push({ orderId: c.orderId, cancellationId: id, cancelledAt: c.cancelledAt });
    }
    change(c.productId, target.qty);
    result.verdicts.push({ id, outcome: 'CANCELLED' });
  }

  function targetOf(row: OrderRow): StoredOrder {
    const o = row.order;
    return { userId: o.userId, productId: o.productId, qty: o.qty, status: row.status, cancellationId: row.cancellation?.cancellationId ?? null };
  }

  function restock(s: StockAdded, source: Source): void {
    const id = s.restockId;
    if (state.stored.has(id) || restocksSeen.has(id)) return void result.verdicts.push({ id, outcome: 'DUPLICATE' });
    restocksSeen.add(id);
    const exists = state.catalog.has(s.productId);
    result.restockRows.push({ restock: s, partition: source.partition, offset: source.offset, status: exists ? 'STOCKED' : 'REFUSED' });
    if (!exists) return void result.verdicts.push({ id, outcome: 'REFUSED', reason: 'UNKNOWN_PRODUCT' });
    change(s.productId, s.add);
    result.verdicts.push({ id, outcome: 'STOCKED' });
  }
}
