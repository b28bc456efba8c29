import { expect } from 'chai';
import { frame, payloadOf, schemaIdOf, WireFormatError } from '../../src/serde/wire.js';

describe('Confluent wire format', () => {
  it('writes magic byte 0 and the schema id big-endian before the payload', () => {
    const message = frame(0x01020304, Buffer.from([0xaa, 0xbb]));
    expect([...message]).to.deep.equal([0, 1, 2, 3, 4, 0xaa, 0xbb]);
    expect(schemaIdOf(message)).to.equal(0x01020304);
    expect([...payloadOf(message)]).to.deep.equal([0xaa, 0xbb]);
  });

  it('refuses messages that are not framed', () => {
    expect(() => schemaIdOf(Buffer.from([0, 0, 1]))).to.throw(WireFormatError, /shorter/);
    expect(() => schemaIdOf(Buffer.from('{"json": true}'))).to.throw(WireFormatError, /magic byte is 123/);
  });
});
