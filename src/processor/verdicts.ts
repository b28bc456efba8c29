// Verdicts travel from the processor to api replicas waiting on `Prefer: wait` through PostgreSQL
// LISTEN/NOTIFY: sent inside the apply transaction, so they are delivered exactly when the orders
// become visible, and only then. One waiting request costs no database query.
//
// Channel `order_verdicts`, payload: comma-separated entries of <orderId><code>, where code is
//   A accepted · O rejected OUT_OF_STOCK · U rejected UNKNOWN_PRODUCT · D duplicate (read the row)
// Entries are packed into payloads under PostgreSQL's 8000-byte NOTIFY limit.
import type { PoolClient } from '../db/pool.js';
import type { Reason, Verdict } from './plan.js';

export const VERDICT_CHANNEL = 'order_verdicts';
const MAX_PAYLOAD = 7900;

export type VerdictCode = 'A' | 'O' | 'U' | 'D';

export interface NotifiedVerdict {
  orderId: string;
  status: 'ACCEPTED' | 'REJECTED' | 'DUPLICATE';
  reason?: Reason;
}

function code(verdict: Verdict): VerdictCode {
  if (verdict.status === 'ACCEPTED') return 'A';
  if (verdict.status === 'DUPLICATE') return 'D';
  return verdict.reason === 'OUT_OF_STOCK' ? 'O' : 'U';
}

export function packVerdicts(verdicts: readonly Verdict[]): string[] {
  const payloads: string[] = [];
  let current = '';
  for (const verdict of verdicts) {
    const entry = verdict.orderId + code(verdict);
    if (current.length + entry.length + 1 > MAX_PAYLOAD) {
      payloads.push(current);
      current = '';
    }
    current = current ? `${current},${entry}` : entry;
  }
  if (current) payloads.push(current);
  return payloads;
}

export function unpackVerdicts(payload: string): NotifiedVerdict[] {
  return payload.split(',').map((entry) => {
    const orderId = entry.slice(0, -1);
    switch (entry.at(-1)) {
      case 'A':
        return { orderId, status: 'ACCEPTED' };
      case 'O':
        return { orderId, status: 'REJECTED', reason: 'OUT_OF_STOCK' };
      case 'U':
        return { orderId, status: 'REJECTED', reason: 'UNKNOWN_PRODUCT' };
      default:
        return { orderId, status: 'DUPLICATE' };
    }
  });
}

const NOTIFY = `SELECT pg_notify('${VERDICT_CHANNEL}', payload) FROM unnest($1::text[]) AS payload`;

export async function notifyVerdicts(client: PoolClient, verdicts: readonly Verdict[]): Promise<void> {
  if (verdicts.length === 0) return;
  await client.query(NOTIFY, [packVerdicts(verdicts)]);
}
