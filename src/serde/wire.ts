// The Confluent wire format, shared by every Confluent-compatible producer and consumer:
//
//   offset 0   magic byte, always 0
//   offset 1   schema id, int32 big-endian, as assigned by the Schema Registry
//   offset 5…  the Avro binary encoding of the record, written with that schema
//
// Anything else in a topic that promises this format is not ours to guess at: it is a poison message.

const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

export function frame(schemaId: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out[0] = MAGIC_BYTE;
  out.writeInt32BE(schemaId, 1);
  payload.copy(out, HEADER_BYTES);
  return out;
}

export function schemaIdOf(message: Buffer): number {
  if (message.length < HEADER_BYTES) throw new WireFormatError(`message of ${message.length} bytes is shorter than the 5-byte header`);
  if (message[0] !== MAGIC_BYTE) throw new WireFormatError(`magic byte is ${message[0]}, expected 0`);
  return message.readInt32BE(1);
}

/** The Avro payload without copying. */
export function payloadOf(message: Buffer): Buffer {
  return message.subarray(HEADER_BYTES);
}
