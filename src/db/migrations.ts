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
  {
    version: 2,
    name: 'order lifecycle: cancellations, restocks, price check',
    sql: `
      ALTER TABLE orders DROP CONSTRAINT orders_status_check,
        ADD CONSTRAINT orders_status_check CHECK (status IN ('ACCEPTED', 'REJECTED', 'CANCELLED'));
      ALTER TABLE orders DROP CONSTRAINT orders_reason_check,
        ADD CONSTRAINT orders_reason_check CHECK (reason IN ('OUT_OF_STOCK', 'UNKNOWN_PRODUCT', 'PRICE_MISMATCH'));
      -- cancellation_id tells a replayed cancellation (same id: nothing to do) from a second one.
      ALTER TABLE orders ADD COLUMN cancelled_at timestamptz, ADD COLUMN cancellation_id uuid,
        ADD CONSTRAINT orders_cancelled_check CHECK ((status = 'CANCELLED') = (cancelled_at IS NOT NULL AND cancellation_id IS NOT NULL));

      -- Every StockAdded applied (or refused), so a replayed restock is recognised and adds nothing.
      CREATE TABLE stock_additions (
        restock_id   uuid PRIMARY KEY,
        product_id   text NOT NULL,
        qty          bigint NOT NULL CHECK (qty > 0),
        status       text NOT NULL CHECK (status IN ('STOCKED', 'REFUSED')),
        added_at     timestamptz NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        source_partition integer NOT NULL,
        source_offset    bigint NOT NULL
      );
      CREATE INDEX stock_additions_product ON stock_additions (product_id, added_at);
    `,
  },
];
