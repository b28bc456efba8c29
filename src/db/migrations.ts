// The database schema, as ordered migrations. Append only: a migration that has run is never edited.
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'catalog and orders',
    sql: `
      CREATE TABLE catalog (
        product_id   text PRIMARY KEY,
        product_name text NOT NULL,
        unit_price   bigint NOT NULL CHECK (unit_price >= 0),
        -- The processor's plan never takes stock below zero; the constraint makes a bug loud.
        stock        bigint NOT NULL CHECK (stock >= 0),
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE orders (
        order_id     uuid PRIMARY KEY,
        user_id      text NOT NULL,
        product_id   text NOT NULL,
        qty          integer NOT NULL,
        unit_price   bigint NOT NULL,
        total_price  bigint NOT NULL,
        status       text NOT NULL CHECK (status IN ('ACCEPTED', 'REJECTED')),
        reason       text CHECK (reason IN ('OUT_OF_STOCK', 'UNKNOWN_PRODUCT')),
        created_at   timestamptz NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        -- Where the event came from, for operators tracing an order back to Kafka.
        source_partition integer NOT NULL,
        source_offset    bigint NOT NULL
      );

      -- GET /order-service/:userId/orders pages by (created_at, order_id).
      CREATE INDEX orders_user_created ON orders (user_id, created_at, order_id);
    `,
  },
];
