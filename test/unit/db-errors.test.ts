// Which PostgreSQL failures are an outage (503 naming postgres, retried by the caller) and which
// are not: the classification the API's error handler and the pool rely on.
import { expect } from 'chai';
import { isConnectionError, isDatabaseUnavailable } from '../../src/db/errors.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('database errors', () => {
  it('counts refused, dropped and restarting connections as unavailable', () => {
    const outages = [
      withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      withCode('ECONNRESET', 'read ECONNRESET'),
      withCode('57P01', 'terminating connection due to administrator command'),
      withCode('57P03', 'the database system is starting up'),
      withCode('08006', 'connection failure'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Client has encountered a connection error and is not queryable'),
    ];
    for (const err of outages) {
      expect(isConnectionError(err), err.message).to.equal(true);
      expect(isDatabaseUnavailable(err), err.message).to.equal(true);
    }
  });

  it('counts transient refusals (too many connections, serialization, deadlock) as unavailable, not as lost connections', () => {
    for (const code of ['53300', '40001', '40P01', '55P03']) {
      expect(isDatabaseUnavailable(withCode(code)), code).to.equal(true);
      expect(isConnectionError(withCode(code)), code).to.equal(false);
    }
  });

  it('leaves bugs and bad statements alone: they stay 500s to be fixed, not outages to wait out', () => {
    for (const err of [withCode('42P01', 'relation "nope" does not exist'), withCode('23505', 'duplicate key'), withCode('22P02', 'invalid input syntax'), new TypeError('x is undefined'), undefined, null, 'text']) {
      expect(isDatabaseUnavailable(err), String((err as Error)?.message ?? err)).to.equal(false);
    }
  });
});
