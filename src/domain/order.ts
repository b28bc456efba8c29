// The order event as it travels through Kafka (schemas/order-created.avsc) and the limits that keep
// every value storable: qty × unitPrice ≤ 10^6 × 10^9 = 10^15 < 2^53, so totals are exact numbers.

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

export const LIMITS = {
  idPattern: '^[A-Za-z0-9._-]{1,64}$',
  idMaxLength: 64,
  qtyMin: 1,
  qtyMax: 1_000_000,
  unitPriceMin: 0,
  unitPriceMax: 1_000_000_000,
} as const;

const ID = new RegExp(LIMITS.idPattern);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Why a decoded event cannot be applied, or undefined when it can. The api validates the same
 * limits at the edge; this guards the processor against producers that are not our api.
 */
export function invalidField(order: OrderCreated): string | undefined {
  if (!UUID.test(order.orderId)) return 'orderId is not a UUID';
  if (!ID.test(order.userId)) return 'userId is not 1-64 characters of [A-Za-z0-9._-]';
  if (!ID.test(order.productId)) return 'productId is not 1-64 characters of [A-Za-z0-9._-]';
  if (!Number.isInteger(order.qty) || order.qty < LIMITS.qtyMin || order.qty > LIMITS.qtyMax) return `qty ${order.qty} is outside ${LIMITS.qtyMin}..${LIMITS.qtyMax}`;
  if (!Number.isSafeInteger(order.unitPrice) || order.unitPrice < LIMITS.unitPriceMin || order.unitPrice > LIMITS.unitPriceMax) return `unitPrice ${order.unitPrice} is outside ${LIMITS.unitPriceMin}..${LIMITS.unitPriceMax}`;
  if (order.totalPrice !== order.qty * order.unitPrice) return `totalPrice ${order.totalPrice} is not qty × unitPrice`;
  if (!Number.isSafeInteger(order.createdAt) || order.createdAt < 0) return `createdAt ${order.createdAt} is not a timestamp`;
  return undefined;
}
