import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { packVerdicts, unpackVerdicts, type Verdict } from '../../src/domain/verdict.js';

const every: Verdict[] = [
  { id: randomUUID(), outcome: 'ACCEPTED' },
  { id: randomUUID(), outcome: 'REJECTED', reason: 'OUT_OF_STOCK' },
  { id: randomUUID(), outcome: 'REJECTED', reason: 'UNKNOWN_PRODUCT' },
  { id: randomUUID(), outcome: 'REJECTED', reason: 'PRICE_MISMATCH' },
  { id: randomUUID(), outcome: 'CANCELLED' },
  { id: randomUUID(), outcome: 'STOCKED' },
  { id: randomUUID(), outcome: 'REFUSED', reason: 'ALREADY_CANCELLED' },
  { id: randomUUID(), outcome: 'REFUSED', reason: 'NOT_ACCEPTED' },
  { id: randomUUID(), outcome: 'REFUSED', reason: 'UNKNOWN_ORDER' },
  { id: randomUUID(), outcome: 'REFUSED', reason: 'UNKNOWN_PRODUCT' },
  { id: randomUUID(), outcome: 'DUPLICATE' },
];

describe('verdict NOTIFY codec', () => {
  it('round-trips every outcome and reason', () => {
    const payloads = packVerdicts(every);
    expect(payloads).to.have.length(1);
    expect(unpackVerdicts(payloads[0]!)).to.deep.equal(every);
  });

  it('splits large batches into payloads under PostgreSQL\'s 8000-byte NOTIFY limit, losing none', () => {
    const many: Verdict[] = Array.from({ length: 2500 }, (_, i) => every[i % every.length]!).map((v) => ({ ...v, id: randomUUID() }));
    const payloads = packVerdicts(many);
    expect(payloads.length).to.be.greaterThan(10);
    for (const p of payloads) expect(Buffer.byteLength(p)).to.be.below(8000);
    expect(payloads.flatMap(unpackVerdicts)).to.deep.equal(many);
  });

  it('skips entries it does not know (a newer processor) instead of misreading them', () => {
    const id = randomUUID();
    expect(unpackVerdicts(`${id}Z,${id}A,`)).to.deep.equal([{ id, outcome: 'ACCEPTED' }]);
  });
});
