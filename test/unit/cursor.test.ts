import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { decodeCursor, encodeCursor, FIRST_PAGE } from '../../src/api/cursor.js';
import { HttpError } from '../../src/api/errors.js';

describe('paging cursor', () => {
  it('round-trips the (createdAt, orderId) of the last order of a page', () => {
    const at = new Date('2026-11-26T05:00:00.123Z');
    const id = randomUUID();
    expect(decodeCursor(encodeCursor(at, id))).to.deep.equal([at.toISOString(), id]);
  });

  it('starts from the beginning without a cursor', () => {
    expect(decodeCursor(undefined)).to.deep.equal(FIRST_PAGE);
  });

  for (const [name, cursor] of [
    ['not base64 of a cursor', 'hello'],
    ['a bad date', Buffer.from(`yesterday|${randomUUID()}`).toString('base64url')],
    ['a bad id', Buffer.from('2026-01-01T00:00:00.000Z|1; DROP TABLE orders').toString('base64url')],
    ['extra parts', Buffer.from(`2026-01-01T00:00:00.000Z|${randomUUID()}|x`).toString('base64url')],
  ] as const) {
    it(`answers 400 on the cursor field for ${name}`, () => {
      let error: unknown;
      try {
        decodeCursor(cursor);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(HttpError);
      expect(error).to.include({ statusCode: 400, field: 'cursor' });
    });
  }
});
