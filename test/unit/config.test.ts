import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/index.js';

const required = { KAFKA_BROKERS: 'k1:9092,k2:9092', SCHEMA_REGISTRY_URL: 'http://registry:8081', DATABASE_URL: 'postgres://u:secret@db/orders' };

function configDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'config-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

describe('configuration', () => {
  it('applies defaults, then config/<NODE_ENV>.json, then the environment', () => {
    const dir = configDir({ 'default.json': { PORT: 9000, LOG_LEVEL: 'warn' }, 'production.json': { PORT: 9100 } });
    const config = loadConfig({ ...required, NODE_ENV: 'production', LOG_LEVEL: 'debug' }, dir);
    expect(config.http.port).to.equal(9100);
    expect(config.logLevel).to.equal('debug');
    expect(config.kafka.ordersTopic).to.equal('orders');
    expect(config.kafka.dlqTopic).to.equal('orders.dlq');
    expect(config.kafka.groupId).to.equal('order-processor');
    expect(config.kafka.brokers).to.equal('k1:9092,k2:9092');
  });

  it('reports every problem at once, without echoing secrets', () => {
    const env = { KAFKA_BROKERS: 'not a broker', DATABASE_URL: 'postgres//u:hunter2@db', PORT: '99999', LOG_LEVEL: 'loud', ORDERS_TOPIC: 'bad topic' };
    let error: unknown;
    try {
      loadConfig(env, configDir({}));
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems.map((p) => p.split(' ')[0])).to.have.members(['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_URL', 'PORT', 'LOG_LEVEL', 'ORDERS_TOPIC']);
    expect(message).not.to.include('hunter2');
  });

  it('rejects unknown keys and broken JSON in config files', () => {
    expect(() => loadConfig(required, configDir({ 'default.json': { PROT: 1 } }))).to.throw(ConfigError, /PROT: unknown setting/);
    expect(() => loadConfig(required, configDir({ 'default.json': '{ nope' }))).to.throw(ConfigError, /default\.json/);
  });

  it('ships config files that are valid for every environment', () => {
    for (const NODE_ENV of ['development', 'test', 'production']) {
      expect(() => loadConfig({ ...required, NODE_ENV })).not.to.throw();
    }
  });
});
