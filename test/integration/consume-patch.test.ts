// The native client's consume(n) as patched (patches/@confluentinc+kafka-javascript+*.patch, README
// "Dependencies and why"): the values and keys of one call share one ArrayBuffer, the messages
// carry the same properties in the same order as upstream, and their bytes are each message's own.
import { expect } from 'chai';
import { setFlagsFromString } from 'node:v8';
import { consumeExactly } from '../support/consume.js';
import { testBed, type TestBed } from '../support/fixtures.js';
import { createConsumer, disconnect, type KafkaConsumer } from '../../src/kafka/clients.js';

describe('native consume(n), patched (real Kafka)', () => {
  let bed: TestBed;
  let consumer: KafkaConsumer | undefined;
  before(async () => {
    bed = await testBed(1);
  });
  after(async () => {
    if (consumer) await disconnect(consumer);
    await bed.close();
  });

  it('hands out every value and key intact as Buffers, one ArrayBuffer per call, upstream’s properties', async () => {
    const topic = bed.config.kafka.ordersTopic;
    const sent = Array.from({ length: 50 }, (_, i) => ({ key: `key-${i}-${'k'.repeat(i)}`, value: Buffer.from(`value-${i}-é-${'v'.repeat(i * 3)}`) }));
    await Promise.all(sent.map((m, i) => bed.delivery.send({ topic, partition: 0, key: m.key, value: m.value, ...(i === 7 ? { headers: [{ 'x-test': Buffer.from('h') }] } : {}) })));
    consumer = await createConsumer({ brokers: bed.config.kafka.brokers, security: bed.config.kafka.security, groupId: `${bed.tag}-patch` });
    const got = await consumeExactly(consumer, topic, 1, sent.length);

    got.forEach((message, i) => {
      expect(Buffer.isBuffer(message.value), 'value is a Buffer').to.equal(true);
      expect(Buffer.isBuffer(message.key), 'key is a Buffer').to.equal(true);
      expect(message.value!.equals(sent[i]!.value)).to.equal(true);
      expect(message.key!.toString()).to.equal(sent[i]!.key);
      expect(message.size).to.equal(sent[i]!.value.length);
      expect(Object.keys(message)).to.deep.equal(['value', ...(i === 7 ? ['headers'] : []), 'size', 'key', 'topic', 'offset', 'partition', 'timestamp', 'leaderEpoch']);
      expect(message).to.include({ topic, partition: 0, offset: i });
    });
    expect(got[7]!.headers).to.deep.equal([{ 'x-test': Buffer.from('h') }]);
    // Messages that came in one call share one ArrayBuffer (the patch); a change to one's bytes
    // touches no other message.
    const shared = got.filter((m) => m.value!.buffer === got[0]!.value!.buffer);
    expect(shared.length, 'messages sharing the first one’s ArrayBuffer').to.be.greaterThan(1);
    expect((got[0]!.key as Buffer).buffer).to.equal(got[0]!.value!.buffer);
    got[0]!.value!.fill(0);
    expect(got[1]!.value!.equals(sent[1]!.value)).to.equal(true);
    expect(got[0]!.key!.toString()).to.equal(sent[0]!.key);
  });

  it('hands out a missing key as null, and the numbers of each message as upstream does', async () => {
    const topic = bed.config.kafka.ordersTopic;
    const before = Date.now();
    await bed.delivery.send({ topic, partition: 0, key: null, value: Buffer.from('no key') });
    const reader = await createConsumer({ brokers: bed.config.kafka.brokers, security: bed.config.kafka.security, groupId: `${bed.tag}-patch-nulls` });
    try {
      const got = await consumeExactly(reader, topic, 1, 51);
      const last = got[50]!;
      expect(last.key).to.equal(null);
      expect(last.value!.toString()).to.equal('no key');
      expect(last).to.include({ topic, partition: 0, offset: 50, size: 6 });
      expect(last.timestamp).to.be.within(before - 1000, Date.now() + 1000);
      expect(Object.keys(last)).to.deep.equal(['value', 'size', 'key', 'topic', 'offset', 'partition', 'timestamp', 'leaderEpoch']);
      expect(got.map((m) => m.offset)).to.deep.equal(Array.from({ length: 51 }, (_, i) => i));
      // Small integers, not boxed doubles, as upstream makes them: a double in a field boxes it
      // in every message and in every object it is copied into (the processor's lanes).
      setFlagsFromString('--allow-natives-syntax');
      const isSmi = new Function('n', 'return %IsSmi(n)') as (n: unknown) => boolean;
      for (const field of ['offset', 'partition', 'size', 'leaderEpoch'] as const) {
        expect(got.every((m) => isSmi(m[field])), `${field} of every message a small integer`).to.equal(true);
      }
    } finally {
      await disconnect(reader);
    }
  });
});
