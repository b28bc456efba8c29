// Debezium change events (JsonConverter without schemas) as the CDC source publishes them, and the
// identity a consumer de-duplicates a replay by (README, "Kafka Connect").
import type { Message } from '../../src/kafka/clients.js';

type Row = Record<string, string | number | null>;

export interface Change {
  op: 'c' | 'u' | 'd' | 'r';
  before: Row | null;
  after: Row | null;
  source: { txId: number; lsn: number; sequence: string; table: string };
  /** The transaction's position: the same for all its changes, larger for every later commit. */
  commitLsn: bigint;
  lsn: bigint;
}

/** A change event, or undefined for a tombstone. */
export function readChange(message: Message): Change | undefined {
  if (!message.value) return undefined;
  const event = JSON.parse(message.value.toString()) as Omit<Change, 'commitLsn' | 'lsn'>;
  // sequence = ["<last commit LSN>", "<this change's LSN>"], both decimal.
  const [commit, lsn] = JSON.parse(event.source.sequence) as [string | null, string | null];
  return { ...event, commitLsn: BigInt(commit ?? 0), lsn: BigInt(lsn ?? event.source.lsn) };
}

/** The primary key of the changed row, by table (the tables the source publishes). */
const rowKey = (c: Change): string => {
  const row = c.after ?? c.before ?? {};
  return String(c.source.table === 'orders' ? row.order_id : c.source.table === 'stock_additions' ? row.restock_id : row.product_id);
};

/**
 * One change, however often a CDC replay delivers it: its transaction and its row (the processor
 * changes a row at most once per transaction). Not the change's LSN: rows the processor writes
 * with COPY are logged as multi-row records, so the rows of one batch share an LSN.
 */
export const changeKey = (c: Change): string => `${c.source.txId}/${c.source.table}/${rowKey(c)}`;
