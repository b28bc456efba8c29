// Rows in PostgreSQL's binary COPY format, for `COPY … FROM STDIN (FORMAT binary)`: the server
// stores the values as sent, with no text parsing of UUIDs, numbers or timestamps, which made up
// much of what the apply statement cost it per row.
//
//   file    = signature "PGCOPY\n\377\r\n\0" (11 bytes), int32 flags = 0, int32 extension length = 0,
//             tuple*, int16 -1
//   tuple   = int16 field count, field*
//   field   = int32 byte length, bytes   |   int32 -1 for NULL
//   uuid    = 16 bytes            int4 = 4 bytes, big-endian     int8 = 8 bytes, big-endian
//   text    = UTF-8 bytes         timestamptz = int8 microseconds since 2000-01-01 00:00 UTC
//
// (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"; the type layouts are
// each type's send function in PostgreSQL's sources.)
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** 2000-01-01T00:00:00Z in epoch milliseconds: PostgreSQL's timestamp epoch. */
const PG_EPOCH_MS = 946_684_800_000;
const HEX = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Appends tuples to a growing buffer; `end()` returns the whole COPY stream. */
export class BinaryCopy {
  private buf: Buffer;
  private at = 0;

  constructor(expectedBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(expectedBytes, 64));
    SIGNATURE.copy(this.buf, 0);
    this.buf.writeInt32BE(0, 11);
    this.buf.writeInt32BE(0, 15);
    this.at = 19;
  }

  tuple(fields: number): this {
    this.room(2);
    this.buf.writeInt16BE(fields, this.at);
    this.at += 2;
    return this;
  }

  null(): this {
    this.room(4);
    this.buf.writeInt32BE(-1, this.at);
    this.at += 4;
    return this;
  }

  /** A UUID in its canonical text form (validated before it gets here; checked again, cheaply). */
  uuid(id: string): this {
    if (id.length !== 36 || !HEX.test(id)) throw new TypeError(`not a UUID: ${id}`);
    this.room(20);
    this.buf.writeInt32BE(16, this.at);
    this.buf.write(id.slice(0, 8) + id.slice(9, 13) + id.slice(14, 18) + id.slice(19, 23) + id.slice(24), this.at + 4, 16, 'hex');
    this.at += 20;
    return this;
  }

  text(value: string): this {
    // At most 3 bytes per UTF-16 unit; the length is written once the bytes are.
    this.room(4 + value.length * 3);
    const n = this.buf.write(value, this.at + 4, 'utf8');
    this.buf.writeInt32BE(n, this.at);
    this.at += 4 + n;
    return this;
  }

  int4(value: number): this {
    this.room(8);
    this.buf.writeInt32BE(4, this.at);
    this.buf.writeInt32BE(value, this.at + 4);
    this.at += 8;
    return this;
  }

  /** A safe integer (every stored number is bounded below 2^53, see src/domain/order.ts). */
  int8(value: number): this {
    this.room(12);
    this.buf.writeInt32BE(8, this.at);
    this.writeInt64(value, this.at + 4);
    this.at += 12;
    return this;
  }

  /** Epoch milliseconds as a timestamptz. */
  timestamptz(epochMs: number): this {
    this.room(12);
    this.buf.writeInt32BE(8, this.at);
    this.writeInt64((epochMs - PG_EPOCH_MS) * 1000, this.at + 4);
    this.at += 12;
    return this;
  }

  end(): Buffer {
    this.room(2);
    this.buf.writeInt16BE(-1, this.at);
    this.at += 2;
    return this.buf.subarray(0, this.at);
  }

  // Two 32-bit halves: a safe integer fits, and this avoids a BigInt per value.
  private writeInt64(value: number, at: number): void {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`);
    const high = Math.floor(value / 0x1_0000_0000);
    this.buf.writeInt32BE(high, at);
    this.buf.writeUInt32BE(value - high * 0x1_0000_0000, at + 4);
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }
}
