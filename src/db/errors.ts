// What a PostgreSQL failure means for the caller: the database is unreachable or dropped the
// connection (retry later, on another connection), or it refused the statement for a reason that
// goes away by itself. Both are "unavailable", never a client's mistake nor a bug.

/** Node socket errors: nothing answers at the address, or the connection broke. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** SQLSTATEs that clear up on a retry: too many connections, out of resources, serialization failure, deadlock, lock not available. */
const TRANSIENT_STATES = new Set(['53000', '53300', '40001', '40P01', '55P03']);

const codeOf = (err: unknown): string => String((err as { code?: unknown } | null)?.code ?? '');
const messageOf = (err: unknown): string => String((err as { message?: unknown } | null)?.message ?? '');

/**
 * The connection is gone or was never made: SQLSTATE class 08 (connection exception) or 57P
 * (server shutting down, crashed, not accepting connections yet), a socket error, or one of pg's
 * own connection messages ("Connection terminated unexpectedly", "timeout exceeded when trying to
 * connect", "… not queryable").
 */
export function isConnectionError(err: unknown): boolean {
  const code = codeOf(err);
  return code.startsWith('57P') || code.startsWith('08') || SOCKET_CODES.has(code) || /terminat|ECONN|Connection|timeout exceeded when trying to connect|not queryable/i.test(messageOf(err));
}

/** The database cannot serve this request now, but may on a retry. */
export function isDatabaseUnavailable(err: unknown): boolean {
  return isConnectionError(err) || TRANSIENT_STATES.has(codeOf(err));
}
