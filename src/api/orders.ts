// The order routes of the notes' order-service, served identically by every replica: POSTs make an
// event durable in Kafka (src/api/publish.ts); GETs read what the processor applied to PostgreSQL.
//
// POST orders: validate (schema) → OrderCreated → publish → 202 PENDING, or with `Prefer: wait=N`
// 201 ACCEPTED/REJECTED once the processor decided (202 on timeout).
// POST orders/:orderId/cancel: OrderCancelled, keyed by the order's productId so it lands behind the
// order's creation → 202 PENDING, or with `Prefer: wait=N` 200 CANCELLED / 409 refused / 404.
import type { FastifyInstance } from 'fastify';
import { v5 as uuidv5, v7 as uuidv7 } from 'uuid';
import type { Pool } from '../db/pool.js';
import type { OrderCancelled, OrderCreated } from '../domain/order.js';
import type { OrderStatus } from '../domain/verdict.js';
import type { Metrics } from '../metrics/registry.js';
import { HttpError } from './errors.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { preferredWaitSeconds, type Publisher } from './publish.js';
import { cancelRequest, cancellation, listQuery, orderHeaders, orderParams, orderRequest, responses, userParams } from './schemas.js';

export interface OrderRoutesOptions {
  pool: Pool;
  publisher: Publisher;
  metrics: Metrics;
  maxWaitSeconds: number;
}

interface OrderRow {
  order_id: string;
  user_id: string;
  product_id: string;
  qty: number;
  unit_price: number;
  total_price: number;
  created_at: Date;
  status: OrderStatus;
  reason: string | null;
  cancelled_at: Date | null;
  cancellation_id: string | null;
}

type OrderBody = { productId: string; qty: number; unitPrice: number };
type CommandHeaders = { 'idempotency-key'?: string; prefer?: string };

/** Fixed namespace for Idempotency-Key event ids: changing it would break retries across a deploy. */
const IDEMPOTENCY_NAMESPACE = '2f1d8a52-5c4e-4d8e-9a55-7b0e8f6c1d30';

/**
 * The same user + Idempotency-Key gives the same event id on every replica (name-based UUID v5).
 * `scope` keeps one key from meaning two things: an order and the cancellation of an order.
 * Without a key the id is time-ordered (UUID v7, RFC 9562): the processor inserts each id into a
 * primary-key B-tree, and ids that grow with time land on its rightmost pages instead of a random
 * leaf each: 15–30 % less of PostgreSQL's CPU per order than random ids (BENCHMARKS.md,
 * "Time-ordered ids"). A keyed id stays v5: a retry must find the same id without any state.
 */
export function eventIdFor(scope: string[], idempotencyKey: string | undefined): string {
  return idempotencyKey === undefined ? uuidv7() : uuidv5([...scope, idempotencyKey].join('\n'), IDEMPOTENCY_NAMESPACE);
}
/** Kept as it was before cancellations: existing clients' retries must keep their orderIds. */
export const orderIdFor = (userId: string, idempotencyKey: string | undefined) => eventIdFor([userId], idempotencyKey);

const toJson = (row: OrderRow) => ({
  orderId: row.order_id,
  userId: row.user_id,
  productId: row.product_id,
  qty: row.qty,
  unitPrice: row.unit_price,
  totalPrice: row.total_price,
  createdAt: row.created_at.toISOString(),
  status: row.status,
  ...(row.reason ? { reason: row.reason } : {}),
  ...(row.cancelled_at ? { cancelledAt: row.cancelled_at.toISOString() } : {}),
});

const pendingJson = (event: OrderCreated) => ({
  orderId: event.orderId,
  userId: event.userId,
  productId: event.productId,
  qty: event.qty,
  unitPrice: event.unitPrice,
  totalPrice: event.totalPrice,
  createdAt: new Date(event.createdAt).toISOString(),
  status: 'PENDING' as const,
});

const ORDER_COLUMNS = 'order_id, user_id, product_id, qty, unit_price, total_price, created_at, status, reason, cancelled_at, cancellation_id';

const ONE_ORDER = `SELECT ${ORDER_COLUMNS} FROM orders WHERE order_id = $1 AND user_id = $2`;

const USER_ORDERS = `
  SELECT ${ORDER_COLUMNS} FROM orders
  WHERE user_id = $1 AND (created_at, order_id) > ($2::timestamptz, $3::uuid)
  ORDER BY created_at, order_id
  LIMIT $4`;

const refused = (reason: 'ALREADY_CANCELLED' | 'NOT_ACCEPTED', orderId: string) =>
  new HttpError(409, reason === 'ALREADY_CANCELLED' ? `order ${orderId} is already cancelled` : `order ${orderId} was REJECTED: there is nothing to give back`, {}, undefined, reason);

export async function orderRoutes(app: FastifyInstance, options: OrderRoutesOptions): Promise<void> {
  const { pool, publisher, metrics } = options;
  const findOrder = async (orderId: string, userId: string) => (await pool.query<OrderRow>(ONE_ORDER, [orderId, userId])).rows[0];

  app.post<{ Params: { userId: string }; Body: OrderBody; Headers: CommandHeaders }>(
    '/order-service/:userId/orders',
    {
      schema: {
        summary: 'Place an order',
        description: 'unitPrice must be the catalog price when the processor applies the order, else the order is REJECTED with reason PRICE_MISMATCH.',
        params: userParams,
        headers: orderHeaders,
        body: orderRequest,
        response: { 201: { $ref: 'Order#' }, 202: { $ref: 'Order#' }, 200: { $ref: 'Order#' }, ...responses.errors(400, 413, 415, 503) },
      },
      // Client mistakes never reach the handler; count them here.
      onResponse: (_request, reply, done) => {
        if (reply.statusCode >= 400 && reply.statusCode < 500) metrics.ordersReceived.inc({ outcome: 'invalid' });
        done();
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      const idempotencyKey = request.headers['idempotency-key'];
      const event: OrderCreated = {
        orderId: orderIdFor(userId, idempotencyKey),
        userId,
        productId: request.body.productId,
        qty: request.body.qty,
        unitPrice: request.body.unitPrice,
        totalPrice: request.body.qty * request.body.unitPrice,
        createdAt: Date.now(),
      };

      // A retry of an order already applied answers with what was stored, without a second event.
      // The lookup is only a shortcut: with the database down the order is produced again, and the
      // processor applies an orderId once however often it arrives — orders need only Kafka.
      if (idempotencyKey !== undefined) {
        const stored = await findOrder(event.orderId, userId).catch((err: unknown) => {
          if (!isDatabaseUnavailable(err)) throw err;
          request.log.warn({ err: (err as Error).message, orderId: event.orderId }, 'idempotency lookup skipped: postgres unavailable');
          return undefined;
        });
        if (stored) {
          metrics.ordersReceived.inc({ outcome: 'replayed' });
          return reply.code(200).send(toJson(stored));
        }
      }

      const waitSeconds = preferredWaitSeconds(request.headers.prefer, options.maxWaitSeconds);
      let published;
      try {
        published = await publisher.publish({ type: 'OrderCreated', event }, event.orderId, waitSeconds, request.log);
      } catch (err) {
        metrics.ordersReceived.inc({ outcome: 'unavailable' });
        throw err;
      }
      metrics.ordersReceived.inc({ outcome: 'acknowledged' });
      if (!published.waited) return reply.code(202).send(pendingJson(event));

      reply.header('preference-applied', `wait=${waitSeconds}`);
      const { verdict } = published;
      metrics.orderVerdictsWaited.inc({ verdict: verdict ? verdict.outcome.toLowerCase() : 'timeout' });
      if (verdict?.outcome === 'ACCEPTED' || verdict?.outcome === 'REJECTED') {
        return reply.code(201).send({ ...pendingJson(event), status: verdict.outcome, ...(verdict.outcome === 'REJECTED' ? { reason: verdict.reason } : {}) });
      }
      // A duplicate (or an order cancelled within its own batch): what is stored is the answer.
      // The order is acknowledged already: a database hiccup here answers PENDING, not an error.
      const stored = verdict ? await findOrder(event.orderId, userId).catch(() => undefined) : undefined;
      return stored ? reply.code(200).send(toJson(stored)) : reply.code(202).send(pendingJson(event));
    },
  );

  app.post<{ Params: { userId: string; orderId: string }; Body: { productId?: string }; Headers: CommandHeaders }>(
    '/order-service/:userId/orders/:orderId/cancel',
    {
      // No body at all is a cancellation without a productId.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        summary: 'Cancel an order; an ACCEPTED order gives its qty back to stock',
        description:
          'Applied by the processor in order with the product\'s other stock changes, exactly once. ' +
          'An order not applied yet (PENDING) can be cancelled by naming its productId in the body: the cancellation then ' +
          'lands behind the order\'s creation in the same partition. 409 with `reason` ALREADY_CANCELLED or NOT_ACCEPTED ' +
          '(a REJECTED order has nothing to give back); 404 for an unknown order or another user\'s.',
        params: orderParams,
        headers: orderHeaders,
        body: cancelRequest,
        response: { 200: { $ref: 'Order#' }, 202: cancellation, ...responses.errors(400, 404, 409, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const { userId, orderId } = request.params;
      const idempotencyKey = request.headers['idempotency-key'];
      const cancellationId = eventIdFor([userId, orderId, 'cancel'], idempotencyKey);
      const stored = await findOrder(orderId, userId);
      if (stored?.status === 'CANCELLED') {
        // The same cancellation again (same Idempotency-Key) is answered with what it did.
        if (stored.cancellation_id === cancellationId) return reply.code(200).send(toJson(stored));
        throw refused('ALREADY_CANCELLED', orderId);
      }
      if (stored?.status === 'REJECTED') throw refused('NOT_ACCEPTED', orderId);
      const productId = stored?.product_id ?? request.body.productId;
      if (productId === undefined) {
        throw new HttpError(404, `order ${orderId} of user ${userId} not found; if it is still PENDING, name its productId in the body to cancel it behind its creation`);
      }
      if (stored && request.body.productId !== undefined && request.body.productId !== stored.product_id) {
        throw new HttpError(400, `order ${orderId} is for product ${stored.product_id}`, {}, 'productId');
      }

      const event: OrderCancelled = { cancellationId, orderId, userId, productId, cancelledAt: Date.now() };
      const waitSeconds = preferredWaitSeconds(request.headers.prefer, options.maxWaitSeconds);
      const published = await publisher.publish({ type: 'OrderCancelled', event }, cancellationId, waitSeconds, request.log);
      const pending = { cancellationId, orderId, userId, productId, status: 'PENDING' as const };
      if (!published.waited) return reply.code(202).send(pending);
      reply.header('preference-applied', `wait=${waitSeconds}`);
      const { verdict } = published;
      if (verdict?.outcome === 'REFUSED') {
        if (verdict.reason === 'UNKNOWN_ORDER') throw new HttpError(404, `order ${orderId} of user ${userId} not found`);
        if (verdict.reason === 'ALREADY_CANCELLED' || verdict.reason === 'NOT_ACCEPTED') throw refused(verdict.reason, orderId);
      }
      const now = verdict ? await findOrder(orderId, userId).catch(() => undefined) : undefined; // durable already: PENDING, not an error
      return now ? reply.code(200).send(toJson(now)) : reply.code(202).send(pending);
    },
  );

  app.get<{ Params: { userId: string }; Querystring: { limit: number; cursor?: string } }>(
    '/order-service/:userId/orders',
    {
      schema: {
        summary: "A user's orders, oldest first",
        params: userParams,
        querystring: listQuery,
        response: { 200: { type: 'array', items: { $ref: 'Order#' } }, ...responses.errors(400, 503) },
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      const { limit, cursor } = request.query;
      const [after, afterId] = decodeCursor(cursor);
      const { rows } = await pool.query<OrderRow>(USER_ORDERS, [userId, after, afterId, limit]);
      const last = rows[rows.length - 1];
      if (rows.length === limit && last) reply.header('x-next-cursor', encodeCursor(last.created_at, last.order_id));
      return rows.map(toJson);
    },
  );

  app.get<{ Params: { userId: string; orderId: string } }>(
    '/order-service/:userId/orders/:orderId',
    { schema: { summary: 'One order', params: orderParams, response: { 200: { $ref: 'Order#' }, ...responses.errors(400, 404, 503) } } },
    async (request) => {
      const stored = await findOrder(request.params.orderId, request.params.userId);
      if (!stored) throw new HttpError(404, `order ${request.params.orderId} of user ${request.params.userId} not found (or not applied yet)`);
      return toJson(stored);
    },
  );
}
