// The catalog of the notes' catalog-service: products and their stock. Operators create or replace
// a product with PUT; every other stock change goes through the stream, in order with the
// product's orders: POST …/stock publishes a StockAdded event that the processor applies once.
import type { FastifyInstance } from 'fastify';
import type { Pool } from '../db/pool.js';
import type { StockAdded } from '../domain/order.js';
import { HttpError } from './errors.js';
import { eventIdFor } from './orders.js';
import { preferredWaitSeconds, type Publisher } from './publish.js';
import { catalogPut, catalogQuery, orderHeaders, productParams, responses, restock, stockRequest } from './schemas.js';

export interface CatalogRoutesOptions {
  pool: Pool;
  publisher: Publisher;
  maxWaitSeconds: number;
}

interface CatalogRow {
  product_id: string;
  product_name: string;
  stock: number;
  unit_price: number;
  created_at: Date;
}

type CatalogBody = { productName: string; unitPrice: number; stock: number };

const toJson = (row: CatalogRow) => ({
  productId: row.product_id,
  productName: row.product_name,
  stock: row.stock,
  unitPrice: row.unit_price,
  createdAt: row.created_at.toISOString(),
});

const COLUMNS = 'product_id, product_name, stock, unit_price, created_at';
const LIST = `SELECT ${COLUMNS} FROM catalog WHERE product_id > $1 ORDER BY product_id LIMIT $2`;
const ONE = `SELECT ${COLUMNS} FROM catalog WHERE product_id = $1`;
// Create or replace; `xmax = 0` is true only for a freshly inserted row, which tells 201 from 200.
const UPSERT_PRODUCT = `
  INSERT INTO catalog (product_id, product_name, unit_price, stock) VALUES ($1, $2, $3, $4)
  ON CONFLICT (product_id) DO UPDATE
    SET product_name = EXCLUDED.product_name, unit_price = EXCLUDED.unit_price, stock = EXCLUDED.stock, updated_at = now()
  RETURNING ${COLUMNS}, (xmax = 0) AS created`;

// A restock already applied (a retry with the same Idempotency-Key) is answered from here.
const ONE_RESTOCK = `SELECT r.status, r.qty, c.stock FROM stock_additions r LEFT JOIN catalog c USING (product_id) WHERE r.restock_id = $1`;

export async function catalogRoutes(app: FastifyInstance, options: CatalogRoutesOptions): Promise<void> {
  const { pool, publisher } = options;
  const findProduct = async (productId: string) => (await pool.query<CatalogRow>(ONE, [productId])).rows[0];

  app.get<{ Querystring: { limit: number; after?: string } }>(
    '/catalog-service/catalogs',
    { schema: { summary: 'Products, by productId', querystring: catalogQuery, response: { 200: { type: 'array', items: { $ref: 'CatalogItem#' } }, ...responses.errors(400, 503) } } },
    async (request) => (await pool.query<CatalogRow>(LIST, [request.query.after ?? '', request.query.limit])).rows.map(toJson),
  );

  app.get<{ Params: { productId: string } }>(
    '/catalog-service/catalogs/:productId',
    { schema: { summary: 'One product', params: productParams, response: { 200: { $ref: 'CatalogItem#' }, ...responses.errors(400, 404, 503) } } },
    async (request) => {
      const row = await findProduct(request.params.productId);
      if (!row) throw new HttpError(404, `product ${request.params.productId} not found`);
      return toJson(row);
    },
  );

  app.post<{ Params: { productId: string }; Body: { add: number }; Headers: { 'idempotency-key'?: string; prefer?: string } }>(
    '/catalog-service/catalogs/:productId/stock',
    {
      schema: {
        summary: "Add stock to a product, in order with the product's orders",
        description: 'Publishes a StockAdded event; the processor applies it exactly once. 202 PENDING, or with `Prefer: wait=N` 200 STOCKED with the stock read after it.',
        params: productParams,
        headers: orderHeaders,
        body: stockRequest,
        response: { 200: restock, 202: restock, ...responses.errors(400, 404, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const { productId } = request.params;
      const { add } = request.body;
      const restockId = eventIdFor(['restock', productId], request.headers['idempotency-key']);
      const answer = (status: 'PENDING' | 'STOCKED', stock?: number) => ({ restockId, productId, add, status, ...(stock === undefined ? {} : { stock }) });

      const done = (await pool.query<{ status: string; qty: number; stock: number | null }>(ONE_RESTOCK, [restockId])).rows[0];
      if (done?.status === 'STOCKED') return reply.code(200).send(answer('STOCKED', Number(done.stock)));
      // Products are never deleted, so one that exists now exists when the processor applies this.
      if (done || !(await findProduct(productId))) throw new HttpError(404, `product ${productId} not found`);

      const event: StockAdded = { restockId, productId, add, addedAt: Date.now() };
      const waitSeconds = preferredWaitSeconds(request.headers.prefer, options.maxWaitSeconds);
      const published = await publisher.publish({ type: 'StockAdded', event }, restockId, waitSeconds, request.log);
      if (!published.waited) return reply.code(202).send(answer('PENDING'));
      reply.header('preference-applied', `wait=${waitSeconds}`);
      const { verdict } = published;
      if (verdict?.outcome === 'REFUSED') throw new HttpError(404, `product ${productId} not found`);
      // The restock is durable in Kafka from here on: a 503 would tell the client it was not, and a
      // retry without an Idempotency-Key would add the stock twice. Whatever fails now is PENDING.
      const now = verdict ? await findProduct(productId).catch(() => undefined) : undefined;
      return now ? reply.code(200).send(answer('STOCKED', now.stock)) : reply.code(202).send(answer('PENDING'));
    },
  );

  app.put<{ Params: { productId: string }; Body: CatalogBody }>(
    '/catalog-service/catalogs/:productId',
    {
      schema: {
        summary: 'Create or replace a product (stock included)',
        params: productParams,
        body: catalogPut,
        response: { 200: { $ref: 'CatalogItem#' }, 201: { $ref: 'CatalogItem#' }, ...responses.errors(400, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const { productName, unitPrice, stock } = request.body;
      const { rows } = await pool.query<CatalogRow & { created: boolean }>(UPSERT_PRODUCT, [request.params.productId, productName, unitPrice, stock]);
      const row = rows[0]!;
      return reply.code(row.created ? 201 : 200).send(toJson(row));
    },
  );
}
