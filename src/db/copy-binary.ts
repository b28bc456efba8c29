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
/** Where the 32 hex digits of a canonical UUID are (the rest are dashes at 8, 13, 18, 23). */
const UUID_DIGITS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/** A hex digit's value, or -1 (char codes of 0-9, a-f, A-F). */
function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

// Every value is written byte by byte rather than through Buffer's write methods: this runs for
// every field of every order, and the plain stores were several times cheaper in profiles.
/** Appends tuples to a growing buffer; `end()` returns the whole COPY stream. */
export class BinaryCopy {
  private buf: Buffer;
  private at = 0;

  constructor(expectedBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(expectedBytes, 64));
    SIGNATURE.copy(this.buf, 0);
    this.at = SIGNATURE.length;
    this.int32(0); // flags
    this.int32(0); // header extension length
  }

  tuple(fields: number): this {
    this.room(2);
    this.int16(fields);
    return this;
  }

  null(): this {
    this.room(4);
    this.int32(-1);
    return this;
  }

  /** A UUID in its canonical text form (validated before it gets here; checked again, cheaply). */
  uuid(id: string): this {
    if (id.length !== 36 || id.charCodeAt(8) !== 45 || id.charCodeAt(13) !== 45 || id.charCodeAt(18) !== 45 || id.charCodeAt(23) !== 45) throw new TypeError(`not a UUID: ${id}`);
    this.room(20);
    this.int32(16);
    const buf = this.buf;
    for (const i of UUID_DIGITS) {
      const high = nibble(id.charCodeAt(i));
      const low = nibble(id.charCodeAt(i + 1));
      if (high < 0 || low < 0) throw new TypeError(`not a UUID: ${id}`);
      buf[this.at++] = (high << 4) | low;
    }
    return this;
  }

  text(value: string): this {
    // At most 3 bytes per UTF-16 unit; the length is written once the bytes are.
    this.room(4 + value.length * 3);
    const start = this.at;
    this.at += 4;
    const buf = this.buf;
    let ascii = true;
    // Ids, statuses and reasons are short and ASCII: copied in this loop, no call into C++.
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code > 0x7f) {
        ascii = false;
        break;
      }
      buf[this.at + i] = code;
    }
    const n = ascii ? value.length : buf.write(value, this.at, 'utf8');
    this.at += n;
    const end = this.at;
    this.at = start;
    this.int32(n);
    this.at = end;
    return this;
  }

  int4(value: number): this {
    this.room(8);
    this.int32(4);
    this.int32(value);
    return this;
  }

  /** A safe integer (every stored number is bounded below 2^53, see src/domain/order.ts). */
  int8(value: number): this {
    this.room(12);
    this.int32(8);
    this.int64(value);
    return this;
  }

  /** Epoch milliseconds as a timestamptz. */
  timestamptz(epochMs: number): this {
    this.room(12);
    this.int32(8);
    this.int64((epochMs - PG_EPOCH_MS) * 1000);
    return this;
  }

  end(): Buffer {
    this.room(2);
    this.int16(-1);
    return this.buf.subarray(0, this.at);
  }

  private int16(value: number): void {
    this.buf[this.at++] = (value >> 8) & 0xff;
    this.buf[this.at++] = value & 0xff;
  }

  private int32(value: number): void {
    const buf = this.buf;
    buf[this.at++] = (value >>> 24) & 0xff;
    buf[this.at++] = (value >>> 16) & 0xff;
    buf[this.at++] = (value >>> 8) & 0xff;
    buf[this.at++] = value & 0xff;
  }

  // Two 32-bit halves: a safe integer fits, and this avoids a BigInt per value.
  private int64(value: number): void {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`);
    const high = Math.floor(value / 0x1_0000_0000);
    this.int32(high | 0);
    this.int32(value - high * 0x1_0000_0000);
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }
}
