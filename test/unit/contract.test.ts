import { expect } from 'chai';
import { sameSchema } from '../../src/serde/contract.js';
import { ORDER_CREATED_SCHEMA, ORDER_EVENTS_SCHEMA } from '../../src/serde/order-serde.js';

describe('contract look-up: schema equality', () => {
  const ours = JSON.parse(ORDER_CREATED_SCHEMA) as { fields: Array<Record<string, unknown>> } & Record<string, unknown>;

  it('treats a re-serialised schema (whitespace, key order) as ours', () => {
    const reordered = Object.fromEntries(Object.entries(ours).reverse());
    reordered.fields = ours.fields.map((f) => Object.fromEntries(Object.entries(f).reverse()));
    expect(sameSchema(JSON.stringify(reordered), ORDER_CREATED_SCHEMA)).to.equal(true);
    expect(sameSchema(JSON.stringify(ours), ORDER_CREATED_SCHEMA)).to.equal(true);
  });

  it('tells apart a schema with another field, field order, logical type or default', () => {
    const variants = [
      { ...ours, fields: [...ours.fields, { name: 'coupon', type: ['null', 'string'], default: null }] },
      { ...ours, fields: [...ours.fields].reverse() },
      { ...ours, fields: ours.fields.map((f) => (f.name === 'createdAt' ? { ...f, type: 'long' } : f)) },
      { ...ours, fields: ours.fields.map((f) => (f.name === 'qty' ? { ...f, default: 1 } : f)) },
    ];
    for (const variant of variants) expect(sameSchema(JSON.stringify(variant), ORDER_CREATED_SCHEMA)).to.equal(false);
  });

  it('compares the union of event types member by member, in order', () => {
    const union = JSON.parse(ORDER_EVENTS_SCHEMA) as Array<Record<string, unknown>>;
    const reordered = union.map((member) => Object.fromEntries(Object.entries(member).reverse()));
    expect(sameSchema(JSON.stringify(reordered), ORDER_EVENTS_SCHEMA)).to.equal(true);
    expect(sameSchema(JSON.stringify([...union].reverse()), ORDER_EVENTS_SCHEMA), 'branch order is part of the encoding').to.equal(false);
    expect(sameSchema(ORDER_CREATED_SCHEMA, ORDER_EVENTS_SCHEMA)).to.equal(false);
  });

  it('never matches text that is not JSON', () => {
    expect(sameSchema('syntax = "proto3";', ORDER_CREATED_SCHEMA)).to.equal(false);
  });
});
