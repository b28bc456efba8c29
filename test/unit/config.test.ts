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

  it('takes registry basic auth from the settings or the URL user-info, never keeping it in the URL', () => {
    const fromSettings = loadConfig({ ...required, SCHEMA_REGISTRY_USERNAME: 'key', SCHEMA_REGISTRY_PASSWORD: 's3cret' }, configDir({}));
    expect(fromSettings.registry).to.deep.include({ url: 'http://registry:8081', auth: { username: 'key', password: 's3cret' } });
    const fromUrl = loadConfig({ ...required, SCHEMA_REGISTRY_URL: 'https://ke%40y:p%3Ass@registry.example/apis/ccompat/v6' }, configDir({}));
    expect(fromUrl.registry).to.deep.include({ url: 'https://registry.example/apis/ccompat/v6', auth: { username: 'ke@y', password: 'p:ss' } });
    expect(loadConfig(required, configDir({})).registry.auth).to.equal(undefined);
  });

  it('refuses half or doubled registry credentials without echoing the password', () => {
    const half = () => loadConfig({ ...required, SCHEMA_REGISTRY_PASSWORD: 'hunter2' }, configDir({}));
    expect(half).to.throw(ConfigError, /SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD go together/);
    const doubled = () =>
      loadConfig({ ...required, SCHEMA_REGISTRY_URL: 'http://u:hunter2@registry:8081', SCHEMA_REGISTRY_USERNAME: 'u', SCHEMA_REGISTRY_PASSWORD: 'hunter2' }, configDir({}));
    expect(doubled).to.throw(ConfigError, /either in SCHEMA_REGISTRY_URL or in SCHEMA_REGISTRY_USERNAME/);
    for (const attempt of [half, doubled]) {
      try {
        attempt();
      } catch (err) {
        expect((err as Error).message).not.to.include('hunter2');
      }
    }
  });

  it('auto-registers the schema in development and tests only, unless told otherwise', () => {
    expect(loadConfig({ ...required, NODE_ENV: 'production' }).registry.autoRegister).to.equal(false);
    expect(loadConfig({ ...required, NODE_ENV: 'development' }).registry.autoRegister).to.equal(true);
    expect(loadConfig({ ...required, NODE_ENV: 'test' }).registry.autoRegister).to.equal(true);
    expect(loadConfig({ ...required, NODE_ENV: 'development', SCHEMA_AUTO_REGISTER: 'false' }).registry.autoRegister).to.equal(false);
    expect(() => loadConfig({ ...required, SCHEMA_AUTO_REGISTER: 'yes' }, configDir({}))).to.throw(ConfigError, /SCHEMA_AUTO_REGISTER must be true or false/);
  });

  it('ships config files that are valid for every environment', () => {
    for (const NODE_ENV of ['development', 'test', 'production']) {
      expect(() => loadConfig({ ...required, NODE_ENV })).not.to.throw();
    }
  });
});
