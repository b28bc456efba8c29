// The catalog of the notes' catalog-service: products and their stock. Operators load it with
// PUT; the processor alone decrements stock as orders are applied.
import type { FastifyInstance } from 'fastify';
import type { Pool } from '../db/pool.js';
import { HttpError } from './errors.js';
import { catalogPut, catalogQuery, productParams, responses } from './schemas.js';

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
export const UPSERT_PRODUCT = `
  INSERT INTO catalog (product_id, product_name, unit_price, stock) VALUES ($1, $2, $3, $4)
  ON CONFLICT (product_id) DO UPDATE
    SET product_name = EXCLUDED.product_name, unit_price = EXCLUDED.unit_price, stock = EXCLUDED.stock, updated_at = now()
  RETURNING ${COLUMNS}, (xmax = 0) AS created`;

export async function catalogRoutes(app: FastifyInstance, options: { pool: Pool }): Promise<void> {
  const { pool } = options;

  app.get<{ Querystring: { limit: number; after?: string } }>(
    '/catalog-service/catalogs',
    { schema: { summary: 'Products, by productId', querystring: catalogQuery, response: { 200: { type: 'array', items: { $ref: 'CatalogItem#' } }, ...responses.errors(400) } } },
    async (request) => (await pool.query<CatalogRow>(LIST, [request.query.after ?? '', request.query.limit])).rows.map(toJson),
  );

  app.get<{ Params: { productId: string } }>(
    '/catalog-service/catalogs/:productId',
    { schema: { summary: 'One product', params: productParams, response: { 200: { $ref: 'CatalogItem#' }, ...responses.errors(400, 404) } } },
    async (request) => {
      const row = (await pool.query<CatalogRow>(ONE, [request.params.productId])).rows[0];
      if (!row) throw new HttpError(404, `product ${request.params.productId} not found`);
      return toJson(row);
    },
  );

  app.put<{ Params: { productId: string }; Body: CatalogBody }>(
    '/catalog-service/catalogs/:productId',
    {
      schema: {
        summary: 'Create or replace a product (stock included)',
        params: productParams,
        body: catalogPut,
        response: { 200: { $ref: 'CatalogItem#' }, 201: { $ref: 'CatalogItem#' }, ...responses.errors(400, 413, 415) },
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
