// The events that travel through the orders topic (schemas/order-events.avsc), one per stock change
// of a product, and the limits that keep every value storable: qty × unitPrice ≤ 10^6 × 10^9 =
// 10^15 < 2^53, so totals are exact numbers.

/** An order placed through the api; the processor decides ACCEPTED or REJECTED. */
export interface OrderCreated {
  orderId: string;
  userId: string;
  productId: string;
  qty: number;
  unitPrice: number;
  totalPrice: number;
  /** epoch milliseconds (Avro timestamp-millis) */
  createdAt: number;
}

/** A request to cancel an ACCEPTED order and give its qty back to stock. */
export interface OrderCancelled {
  /** Deterministic from the Idempotency-Key, so a retried cancellation is recognised. */
  cancellationId: string;
  orderId: string;
  userId: string;
  /** The order's product: the message key, so the cancellation lands behind the order's creation. */
  productId: string;
  cancelledAt: number;
}

/** Stock added to a product by an operator, applied in order with the product's orders. */
export interface StockAdded {
  restockId: string;
  productId: string;
  add: number;
  addedAt: number;
}

export type OrderEvent =
  | { type: 'OrderCreated'; event: OrderCreated }
  | { type: 'OrderCancelled'; event: OrderCancelled }
  | { type: 'StockAdded'; event: StockAdded };

export type EventType = OrderEvent['type'];

export const LIMITS = {
  idPattern: '^[A-Za-z0-9._-]{1,64}$',
  idMaxLength: 64,
  qtyMin: 1,
  qtyMax: 1_000_000,
  unitPriceMin: 0,
  unitPriceMax: 1_000_000_000,
  addMin: 1,
  addMax: 1_000_000_000,
} as const;

const ID = new RegExp(LIMITS.idPattern);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const idProblem = (what: string, value: string) => (ID.test(value) ? undefined : `${what} is not 1-64 characters of [A-Za-z0-9._-]`);
const timeProblem = (what: string, value: number) => (Number.isSafeInteger(value) && value >= 0 ? undefined : `${what} ${value} is not a timestamp`);

/**
 * Why a decoded event cannot be applied, or undefined when it can. The api validates the same
 * limits at the edge; this guards the processor against producers that are not our api.
 */
export function invalidEvent(e: OrderEvent): string | undefined {
  switch (e.type) {
    case 'OrderCreated':
      return invalidOrder(e.event);
    case 'OrderCancelled': {
      const c = e.event;
      if (!UUID.test(c.cancellationId)) return 'cancellationId is not a UUID';
      if (!UUID.test(c.orderId)) return 'orderId is not a UUID';
      return idProblem('userId', c.userId) ?? idProblem('productId', c.productId) ?? timeProblem('cancelledAt', c.cancelledAt);
    }
    case 'StockAdded': {
      const s = e.event;
      if (!UUID.test(s.restockId)) return 'restockId is not a UUID';
      if (!Number.isSafeInteger(s.add) || s.add < LIMITS.addMin || s.add > LIMITS.addMax) return `add ${s.add} is outside ${LIMITS.addMin}..${LIMITS.addMax}`;
      return idProblem('productId', s.productId) ?? timeProblem('addedAt', s.addedAt);
    }
  }
}

/** Why an OrderCreated cannot be applied, or undefined when it can. */
function invalidOrder(order: OrderCreated): string | undefined {
  if (!UUID.test(order.orderId)) return 'orderId is not a UUID';
  const id = idProblem('userId', order.userId) ?? idProblem('productId', order.productId);
  if (id) return id;
  if (!Number.isInteger(order.qty) || order.qty < LIMITS.qtyMin || order.qty > LIMITS.qtyMax) return `qty ${order.qty} is outside ${LIMITS.qtyMin}..${LIMITS.qtyMax}`;
  if (!Number.isSafeInteger(order.unitPrice) || order.unitPrice < LIMITS.unitPriceMin || order.unitPrice > LIMITS.unitPriceMax) return `unitPrice ${order.unitPrice} is outside ${LIMITS.unitPriceMin}..${LIMITS.unitPriceMax}`;
  if (order.totalPrice !== order.qty * order.unitPrice) return `totalPrice ${order.totalPrice} is not qty × unitPrice`;
  return timeProblem('createdAt', order.createdAt);
}
