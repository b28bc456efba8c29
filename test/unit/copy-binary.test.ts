import { expect } from 'chai';
import { BinaryCopy } from '../../src/db/copy-binary.js';

// The layout checked field by field against an independent encoding (BigInt, Buffer.from(hex));
// that PostgreSQL reads it is shown by the processor's integration tests, which COPY with it.
const HEADER = Buffer.concat([Buffer.from('PGCOPY\n', 'latin1'), Buffer.from([0xff, 0x0d, 0x0a, 0x00]), Buffer.alloc(8)]);
const int32 = (v: number) => { const b = Buffer.alloc(4); b.writeInt32BE(v); return b; };
const int16 = (v: number) => { const b = Buffer.alloc(2); b.writeInt16BE(v); return b; };
const int64 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigInt64BE(v); return b; };

describe('BinaryCopy (PostgreSQL binary COPY)', () => {
  it('writes the signature, an empty stream and the trailer', () => {
    expect(new BinaryCopy().end()).to.deep.equal(Buffer.concat([HEADER, int16(-1)]));
  });

  it('writes each field with its length: uuid, text, int4, int8, NULL, timestamptz', () => {
    const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const ms = Date.UTC(2026, 11, 2, 17, 30, 0, 123);
    const out = new BinaryCopy(8).tuple(6).uuid(uuid).text('P-0001 é').int4(-7).int8(2 ** 53 - 1).null().timestamptz(ms).end();
    const text = Buffer.from('P-0001 é', 'utf8');
    expect(out).to.deep.equal(Buffer.concat([
      HEADER,
      int16(6),
      int32(16), Buffer.from(uuid.replaceAll('-', ''), 'hex'),
      int32(text.length), text,
      int32(4), int32(-7),
      int32(8), int64(2n ** 53n - 1n),
      int32(-1),
      int32(8), int64((BigInt(ms) - BigInt(Date.UTC(2000, 0, 1))) * 1000n),
      int16(-1),
    ]));
  });

  it('writes negative int8 values and timestamps before 2000 in two’s complement', () => {
    const out = new BinaryCopy().tuple(2).int8(-(2 ** 40) - 3).timestamptz(0).end();
    expect(out.subarray(HEADER.length + 2 + 4, HEADER.length + 2 + 12)).to.deep.equal(int64(-(2n ** 40n) - 3n));
    expect(out.subarray(HEADER.length + 2 + 16, HEADER.length + 2 + 24)).to.deep.equal(int64(-946_684_800_000_000n));
  });

  it('grows past its first guess without losing bytes', () => {
    const copy = new BinaryCopy(64);
    for (let i = 0; i < 1000; i++) copy.tuple(1).text(`user-${i}`);
    const out = copy.end();
    const expected = [HEADER];
    for (let i = 0; i < 1000; i++) expected.push(int16(1), int32(`user-${i}`.length), Buffer.from(`user-${i}`));
    expected.push(int16(-1));
    expect(out).to.deep.equal(Buffer.concat(expected));
  });

  it('refuses what it cannot encode exactly: a malformed UUID, an unsafe integer', () => {
    expect(() => new BinaryCopy().uuid('not-a-uuid')).to.throw(TypeError, /not a UUID/);
    expect(() => new BinaryCopy().uuid('0f8fad5b-d9cb-469f-a165-70867728950g')).to.throw(TypeError);
    expect(() => new BinaryCopy().int8(2 ** 53)).to.throw(RangeError);
    expect(() => new BinaryCopy().int8(1.5)).to.throw(RangeError);
  });
});
