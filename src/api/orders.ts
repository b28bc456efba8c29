// The order routes of the notes' order-service, served identically by every replica: POST makes
// the order durable in Kafka; GETs read what the processor applied to PostgreSQL.
//
// POST: validate (schema) → build the event → encode (Avro) → produce (acks=all) → 202 PENDING,
// or with `Prefer: wait=N` → 201 ACCEPTED/REJECTED once the processor decided, 202 on timeout.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { v5 as uuidv5 } from 'uuid';
import type { Pool } from '../db/pool.js';
import type { DeliveryTracker } from '../kafka/delivery.js';
import type { OrderSerde } from '../serde/order-serde.js';
import type { OrderCreated } from '../domain/order.js';
import type { VerdictWaiter } from './verdict-waiter.js';
import type { Metrics } from '../metrics/registry.js';
import { badRequest, HttpError, serviceUnavailable } from './errors.js';
import { withTimeout } from '../timeout.js';
import { listQuery, orderHeaders, orderParams, orderRequest, responses, userParams } from './schemas.js';

export interface OrderRoutesOptions {
  pool: Pool;
  serde: OrderSerde;
  delivery: DeliveryTracker;
  verdicts: VerdictWaiter;
  metrics: Metrics;
  topic: string;
  produceTimeoutMs: number;
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
  status: 'ACCEPTED' | 'REJECTED';
  reason: string | null;
}

type OrderBody = { productId: string; qty: number; unitPrice: number };

/** Fixed namespace for Idempotency-Key order ids: changing it would break retries across a deploy. */
const IDEMPOTENCY_NAMESPACE = '2f1d8a52-5c4e-4d8e-9a55-7b0e8f6c1d30';

/** The same user + Idempotency-Key gives the same orderId on every replica (name-based UUID v5). */
export function orderIdFor(userId: string, idempotencyKey: string | undefined): string {
  return idempotencyKey === undefined ? randomUUID() : uuidv5(`${userId}\n${idempotencyKey}`, IDEMPOTENCY_NAMESPACE);
}

/** RFC 7240 `Prefer: wait=N`, capped; undefined when absent. */
export function preferredWaitSeconds(prefer: string | undefined, max: number): number | undefined {
  const match = prefer?.match(/(?:^|[,;\s])wait\s*=\s*"?(\d{1,6})"?/i);
  return match ? Math.min(Number(match[1]), max) : undefined;
}

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

const ORDER_COLUMNS = 'order_id, user_id, product_id, qty, unit_price, total_price, created_at, status, reason';

const ONE_ORDER = `SELECT ${ORDER_COLUMNS} FROM orders WHERE order_id = $1 AND user_id = $2`;

// Keyset pagination on the (user_id, created_at, order_id) index: stable under concurrent inserts.
const USER_ORDERS = `
  SELECT ${ORDER_COLUMNS} FROM orders
  WHERE user_id = $1 AND (created_at, order_id) > ($2::timestamptz, $3::uuid)
  ORDER BY created_at, order_id
  LIMIT $4`;

const encodeCursor = (row: OrderRow) => Buffer.from(`${row.created_at.toISOString()}|${row.order_id}`).toString('base64url');
function decodeCursor(cursor: string | undefined): [string, string] {
  if (cursor === undefined) return ['-infinity', '00000000-0000-0000-0000-000000000000'];
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  if (!at || !id || Number.isNaN(Date.parse(at)) || !/^[0-9a-f-]{36}$/.test(id)) throw badRequest('cursor', 'cursor is not one this API returned');
  return [at, id];
}

export async function orderRoutes(app: FastifyInstance, options: OrderRoutesOptions): Promise<void> {
  const { pool, serde, delivery, verdicts, metrics } = options;
  const findOrder = async (orderId: string, userId: string) => (await pool.query<OrderRow>(ONE_ORDER, [orderId, userId])).rows[0];

  app.post<{ Params: { userId: string }; Body: OrderBody; Headers: { 'idempotency-key'?: string; prefer?: string } }>(
    '/order-service/:userId/orders',
    {
      schema: {
        summary: 'Place an order',
        params: userParams,
        headers: orderHeaders,
        body: orderRequest,
        response: { 201: { $ref: 'Order#' }, 202: { $ref: 'Order#' }, 200: { $ref: 'Order#' }, ...responses.errors(400, 413, 415, 503) },
      },
      // Client mistakes never reach the handler; count them here.
      onResponse: async (_request, reply) => {
        if (reply.statusCode >= 400 && reply.statusCode < 500) metrics.ordersReceived.inc({ outcome: 'invalid' });
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      const idempotencyKey = request.headers['idempotency-key'];
      const waitSeconds = preferredWaitSeconds(request.headers.prefer, options.maxWaitSeconds);
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
      if (idempotencyKey !== undefined) {
        const stored = await findOrder(event.orderId, userId);
        if (stored) {
          metrics.ordersReceived.inc({ outcome: 'replayed' });
          return reply.code(200).send(toJson(stored));
        }
      }

      const waiting = waitSeconds ? verdicts.wait(event.orderId, waitSeconds * 1000) : undefined;
      try {
        // librdkafka gives up at produceTimeoutMs (message.timeout.ms); the timer is only a safety net.
        await withTimeout(delivery.send({ topic: options.topic, key: event.productId, value: serde.encode(event) }), options.produceTimeoutMs + 1000, 'no acknowledgement');
      } catch (err) {
        waiting?.cancel();
        request.log.warn({ err: (err as Error).message, orderId: event.orderId }, 'order not acknowledged by Kafka');
        metrics.ordersReceived.inc({ outcome: 'unavailable' });
        throw serviceUnavailable('the order could not be made durable; retry with the same Idempotency-Key', 2);
      }
      metrics.ordersReceived.inc({ outcome: 'acknowledged' });
      if (!waiting) return reply.code(202).send(pendingJson(event));

      reply.header('preference-applied', `wait=${waitSeconds}`);
      const verdict = await waiting.verdict;
      metrics.orderVerdictsWaited.inc({ verdict: verdict ? verdict.status.toLowerCase() : 'timeout' });
      if (!verdict) return reply.code(202).send(pendingJson(event));
      if (verdict.status === 'DUPLICATE') {
        const stored = await findOrder(event.orderId, userId);
        return stored ? reply.code(200).send(toJson(stored)) : reply.code(202).send(pendingJson(event));
      }
      return reply.code(201).send({ ...pendingJson(event), status: verdict.status, ...(verdict.reason ? { reason: verdict.reason } : {}) });
    },
  );

  app.get<{ Params: { userId: string }; Querystring: { limit: number; cursor?: string } }>(
    '/order-service/:userId/orders',
    {
      schema: {
        summary: "A user's orders, oldest first",
        params: userParams,
        querystring: listQuery,
        response: { 200: { type: 'array', items: { $ref: 'Order#' } }, ...responses.errors(400) },
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      const { limit, cursor } = request.query;
      const [after, afterId] = decodeCursor(cursor);
      const { rows } = await pool.query<OrderRow>(USER_ORDERS, [userId, after, afterId, limit]);
      if (rows.length === limit) reply.header('x-next-cursor', encodeCursor(rows[rows.length - 1]!));
      return rows.map(toJson);
    },
  );

  app.get<{ Params: { userId: string; orderId: string } }>(
    '/order-service/:userId/orders/:orderId',
    { schema: { summary: 'One order', params: orderParams, response: { 200: { $ref: 'Order#' }, ...responses.errors(400, 404) } } },
    async (request) => {
      const stored = await findOrder(request.params.orderId, request.params.userId);
      if (!stored) throw new HttpError(404, `order ${request.params.orderId} of user ${request.params.userId} not found (or not applied yet)`);
      return toJson(stored);
    },
  );
}
