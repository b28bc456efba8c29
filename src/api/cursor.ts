// The paging cursor of GET /order-service/:userId/orders: the (createdAt, orderId) of the last order
// of a page, base64url-encoded, opaque to clients. Keyset pagination on the (user_id, created_at,
// order_id) index stays stable under concurrent inserts.
import { badRequest } from './errors.js';

export const FIRST_PAGE: [string, string] = ['-infinity', '00000000-0000-0000-0000-000000000000'];

export const encodeCursor = (createdAt: Date, orderId: string) => Buffer.from(`${createdAt.toISOString()}|${orderId}`).toString('base64url');

/** The (createdAt, orderId) to continue after; a 400 for anything this API did not hand out. */
export function decodeCursor(cursor: string | undefined): [string, string] {
  if (cursor === undefined) return FIRST_PAGE;
  const [at, id, extra] = Buffer.from(cursor, 'base64url').toString().split('|');
  if (!at || !id || extra !== undefined || Number.isNaN(Date.parse(at)) || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw badRequest('cursor', 'cursor is not one this API returned');
  }
  return [at, id];
}
