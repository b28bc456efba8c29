// Topic settings from configuration: replication and min.insync.replicas reach the topics the
// service creates, and a min ISR no write could ever satisfy is refused at start-up.
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { topicSpecs } from '../../src/kafka/topics.js';

const required = { KAFKA_BROKERS: 'k1:9092,k2:9092,k3:9092', SCHEMA_REGISTRY_URL: 'http://registry:8081', DATABASE_URL: 'postgres://u:secret@db/orders' };
const load = (env: Record<string, string>) => loadConfig({ ...required, ...env }, mkdtempSync(join(tmpdir(), 'config-')));
const problemsOf = (env: Record<string, string>): string[] => {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('topic settings', () => {
  it('creates both topics with the configured partitions, replication and min ISR', () => {
    const config = load({ ORDERS_TOPIC_PARTITIONS: '12', ORDERS_TOPIC_REPLICATION: '3', ORDERS_TOPIC_MIN_INSYNC_REPLICAS: '2' });
    expect(config.kafka.minInsyncReplicas).to.equal(2);
    expect(topicSpecs(config.kafka)).to.deep.equal([
      { topic: 'orders', partitions: 12, replicationFactor: 3, config: { 'min.insync.replicas': '2' } },
      { topic: 'orders.dlq', partitions: 12, replicationFactor: 3, config: { 'min.insync.replicas': '2' } },
    ]);
  });

  it("leaves min ISR to the brokers' default when unset", () => {
    const config = load({});
    expect(config.kafka.replicationFactor).to.equal(1);
    expect(config.kafka.minInsyncReplicas).to.equal(undefined);
    expect(topicSpecs(config.kafka).map((s) => s.config)).to.deep.equal([{}, {}]);
  });

  it('refuses a min ISR above the replication factor, or not a positive integer', () => {
    expect(problemsOf({ ORDERS_TOPIC_REPLICATION: '1', ORDERS_TOPIC_MIN_INSYNC_REPLICAS: '2' })).to.have.length(1)
      .and.to.match(/ORDERS_TOPIC_MIN_INSYNC_REPLICAS \(2\) must not exceed ORDERS_TOPIC_REPLICATION \(1\)/);
    for (const bad of ['0', '-1', 'two', '1.5']) {
      expect(problemsOf({ ORDERS_TOPIC_REPLICATION: '3', ORDERS_TOPIC_MIN_INSYNC_REPLICAS: bad }), bad).to.have.length(1)
        .and.to.match(/ORDERS_TOPIC_MIN_INSYNC_REPLICAS must be empty or an integer from 1/);
    }
    expect(problemsOf({ ORDERS_TOPIC_REPLICATION: '3', ORDERS_TOPIC_MIN_INSYNC_REPLICAS: '3' })).to.deep.equal([]);
  });
});
