// Loads configuration once at the edge: config/default.json, then config/<NODE_ENV>.json, then the
// environment (12-factor: the environment always wins). Every problem is reported in one ConfigError.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SETTINGS, type Setting, type SettingName } from './settings.js';

export { SETTINGS, type SettingName } from './settings.js';

export interface Config {
  kafka: {
    brokers: string;
    /** librdkafka settings for TLS and SASL, empty when plaintext. */
    security: Record<string, string>;
    ordersTopic: string;
    dlqTopic: string;
    partitions: number;
    replicationFactor: number;
    /** min.insync.replicas set on the topics the service creates; undefined: the brokers' default. */
    minInsyncReplicas: number | undefined;
    groupId: string;
  };
  registry: RegistryConfig;
  database: { url: string; poolMax: number };
  http: { host: string; port: number; bodyLimitBytes: number };
  /** Health, readiness and metrics: a port of their own, never behind auth nor on the public Service. */
  management: { port: number };
  api: {
    produceTimeoutMs: number;
    maxWaitSeconds: number;
    /** Requests holding a `Prefer: wait` at once; 0: none may wait. */
    maxWaiters: number;
    /** Per identity and replica; max 0: off. */
    rateLimit: { max: number; windowSeconds: number };
  };
  auth: AuthConfig;
  processor: { batchMaxMessages: number; batchMaxBytes: number; batchWaitMs: number; applyConcurrency: number };
  shutdownTimeoutMs: number;
  logLevel: string;
}

export interface RegistryConfig {
  /** Base URL without user-info: credentials live in `auth` only, so the URL is safe to log. */
  url: string;
  /** HTTP basic auth, from SCHEMA_REGISTRY_USERNAME / _PASSWORD or the URL's user-info. */
  auth?: { username: string; password: string };
  /** Whether a replica may register the order schema when the subject lacks it. */
  autoRegister: boolean;
}

/** How the api authenticates callers (src/api/auth/). */
export type AuthConfig =
  | { mode: 'off' }
  | {
      mode: 'jwt';
      /** One of the two key sources; which one is required is checked when the api starts. */
      jwksUrl: string | undefined;
      publicKeyFile: string | undefined;
      issuer: string;
      audience: string;
      userClaim: string;
      clockSkewSeconds: number;
      jwksCooldownSeconds: number;
    };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Raw = Partial<Record<string, unknown>>;

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const BROKER = /^[^\s,:]+:\d{1,5}$/;

function readJson(file: string, problems: string[]): Raw {
  if (!existsSync(file)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Raw;
    problems.push(`${file}: must hold a JSON object`);
  } catch (err) {
    problems.push(`${file}: ${(err as Error).message}`);
  }
  return {};
}

/** Checks one value against its setting; returns the parsed value or pushes a problem. */
function parse(setting: Setting, value: unknown, problems: string[]): string | number | undefined {
  const shown = setting.secret ? '(hidden)' : JSON.stringify(value);
  const fail = (why: string) => void problems.push(`${setting.name} ${why} (got ${shown})`);
  const text = typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined) return fail('must be a string or a number');
  switch (setting.kind) {
    case 'integer': {
      const n = /^-?\d+$/.test(text) ? Number(text) : NaN;
      const min = setting.min ?? Number.MIN_SAFE_INTEGER;
      const max = setting.max ?? Number.MAX_SAFE_INTEGER;
      if (!Number.isSafeInteger(n) || n < min || n > max) return fail(`must be an integer from ${min} to ${max}`);
      return n;
    }
    case 'url':
      try {
        new URL(text);
        return text;
      } catch {
        return fail('must be an absolute URL');
      }
    case 'brokers':
      if (!text.split(',').every((b) => BROKER.test(b.trim()))) return fail('must be host:port[,host:port…]');
      return text.split(',').map((b) => b.trim()).join(',');
    case 'level':
      if (!LEVELS.has(text)) return fail(`must be one of ${[...LEVELS].join(', ')}`);
      return text;
    case 'topic':
      if (!TOPIC.test(text) || text === '.' || text === '..') return fail('must be a legal Kafka topic name');
      return text;
    case 'string':
      if (text === '') return fail('must not be empty');
      return text;
    case 'optional':
      return text;
    case 'boolean':
      if (!/^(true|false)$/i.test(text)) return fail('must be true or false');
      return text.toLowerCase();
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, dir = join(process.cwd(), 'config')): Config {
  const problems: string[] = [];
  const files = { ...readJson(join(dir, 'default.json'), problems), ...readJson(join(dir, `${env.NODE_ENV ?? 'development'}.json`), problems) };
  const known = new Set<string>(SETTINGS.map((s) => s.name));
  for (const key of Object.keys(files)) if (!known.has(key)) problems.push(`${key}: unknown setting in config/`);

  const values = {} as Record<SettingName, string | number>;
  for (const setting of SETTINGS as readonly Setting[]) {
    const raw = env[setting.name] !== undefined && env[setting.name] !== '' ? env[setting.name] : (files[setting.name] ?? setting.default);
    if (raw === undefined) {
      problems.push(`${setting.name} is required (environment variable or config/)`);
      continue;
    }
    const parsed = parse(setting, raw, problems);
    if (parsed !== undefined) values[setting.name as SettingName] = parsed;
  }
  const protocol = String(values.KAFKA_SECURITY_PROTOCOL ?? '').toLowerCase();
  if (values.KAFKA_SECURITY_PROTOCOL !== undefined && !['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'].includes(protocol)) {
    problems.push(`KAFKA_SECURITY_PROTOCOL must be plaintext, ssl, sasl_plaintext or sasl_ssl (got ${JSON.stringify(values.KAFKA_SECURITY_PROTOCOL)})`);
  }
  if (protocol.startsWith('sasl') && !(values.KAFKA_SASL_MECHANISM && values.KAFKA_SASL_USERNAME && values.KAFKA_SASL_PASSWORD)) {
    problems.push('KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with a sasl_* KAFKA_SECURITY_PROTOCOL');
  }
  const registry = registryConfig(values, problems);
  const auth = authConfig(values, problems);
  const minInsync = minInsyncReplicas(values, problems);
  if (problems.length) throw new ConfigError(problems);

  const str = (n: SettingName) => String(values[n]);
  const num = (n: SettingName) => Number(values[n]);
  return {
    kafka: {
      brokers: str('KAFKA_BROKERS'),
      security: kafkaSecurity(protocol, values),
      ordersTopic: str('ORDERS_TOPIC'),
      dlqTopic: str('ORDERS_DLQ_TOPIC'),
      partitions: num('ORDERS_TOPIC_PARTITIONS'),
      replicationFactor: num('ORDERS_TOPIC_REPLICATION'),
      minInsyncReplicas: minInsync,
      groupId: str('PROCESSOR_GROUP_ID'),
    },
    registry: registry!,
    database: { url: str('DATABASE_URL'), poolMax: num('DATABASE_POOL_MAX') },
    http: { host: str('HOST'), port: num('PORT'), bodyLimitBytes: num('HTTP_BODY_LIMIT_BYTES') },
    management: { port: num('MANAGEMENT_PORT') },
    api: {
      produceTimeoutMs: num('API_PRODUCE_TIMEOUT_MS'),
      maxWaitSeconds: num('API_MAX_WAIT_SECONDS'),
      maxWaiters: num('API_MAX_WAITERS'),
      rateLimit: { max: num('RATE_LIMIT_MAX'), windowSeconds: num('RATE_LIMIT_WINDOW_SECONDS') },
    },
    auth: auth!,
    processor: {
      batchMaxMessages: num('PROCESSOR_BATCH_MAX_MESSAGES'),
      batchMaxBytes: num('PROCESSOR_BATCH_MAX_BYTES'),
      batchWaitMs: num('PROCESSOR_BATCH_WAIT_MS'),
      applyConcurrency: num('PROCESSOR_APPLY_CONCURRENCY'),
    },
    shutdownTimeoutMs: num('SHUTDOWN_TIMEOUT_MS'),
    logLevel: str('LOG_LEVEL'),
  };
}

/** Credentials from the settings or the URL's user-info (not both), taken out of the URL. */
function registryConfig(values: Record<string, string | number>, problems: string[]): RegistryConfig | undefined {
  if (values.SCHEMA_REGISTRY_URL === undefined) return undefined;
  const url = new URL(String(values.SCHEMA_REGISTRY_URL));
  const inUrl = url.username !== '' || url.password !== '';
  const fromUrl = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  url.username = '';
  url.password = '';
  const username = String(values.SCHEMA_REGISTRY_USERNAME ?? '');
  const password = String(values.SCHEMA_REGISTRY_PASSWORD ?? '');
  const inSettings = username !== '' || password !== '';
  if (inSettings && inUrl) problems.push('give the registry credentials either in SCHEMA_REGISTRY_URL or in SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD, not both');
  if (inSettings && (username === '' || password === '')) problems.push('SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD go together (basic auth): set both or neither');
  const auth = inSettings ? { username, password } : inUrl ? fromUrl : undefined;
  return {
    url: url.toString().replace(/\/$/, ''),
    ...(auth ? { auth } : {}),
    autoRegister: values.SCHEMA_AUTO_REGISTER === 'true',
  };
}

/**
 * AUTH_*: the mode and the shape of each value. Whether `jwt` has its key source, issuer and
 * audience is checked when the api role starts (src/api/auth/keys.ts), so the processor and
 * `order-stream migrate` do not need settings they never use.
 */
function authConfig(values: Record<string, string | number>, problems: string[]): AuthConfig | undefined {
  const mode = String(values.AUTH_MODE ?? '').toLowerCase();
  if (mode === 'off') return { mode };
  if (mode !== 'jwt') {
    if (values.AUTH_MODE !== undefined) problems.push(`AUTH_MODE must be jwt or off (got ${JSON.stringify(values.AUTH_MODE)})`);
    return undefined;
  }
  const text = (name: string) => (String(values[name] ?? '') === '' ? undefined : String(values[name]));
  const jwksUrl = text('AUTH_JWKS_URL');
  if (jwksUrl !== undefined && !/^https?:\/\//.test(jwksUrl)) problems.push(`AUTH_JWKS_URL must be an http(s) URL (got ${JSON.stringify(jwksUrl)})`);
  else if (jwksUrl !== undefined) {
    try {
      new URL(jwksUrl);
    } catch {
      problems.push(`AUTH_JWKS_URL must be an absolute URL (got ${JSON.stringify(jwksUrl)})`);
    }
  }
  const publicKeyFile = text('AUTH_PUBLIC_KEY_FILE');
  if (jwksUrl && publicKeyFile) problems.push('give AUTH_JWKS_URL or AUTH_PUBLIC_KEY_FILE, not both');
  return {
    mode,
    jwksUrl,
    publicKeyFile,
    issuer: text('AUTH_ISSUER') ?? '',
    audience: text('AUTH_AUDIENCE') ?? '',
    userClaim: String(values.AUTH_USER_CLAIM ?? 'sub'),
    clockSkewSeconds: Number(values.AUTH_CLOCK_SKEW_SECONDS),
    jwksCooldownSeconds: Number(values.AUTH_JWKS_COOLDOWN_SECONDS),
  };
}

/** ORDERS_TOPIC_MIN_INSYNC_REPLICAS: empty, or an integer from 1 to the replication factor. */
function minInsyncReplicas(values: Record<string, string | number>, problems: string[]): number | undefined {
  const text = String(values.ORDERS_TOPIC_MIN_INSYNC_REPLICAS ?? '');
  if (text === '') return undefined;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  const replication = Number(values.ORDERS_TOPIC_REPLICATION);
  if (!Number.isSafeInteger(n) || n < 1) problems.push(`ORDERS_TOPIC_MIN_INSYNC_REPLICAS must be empty or an integer from 1 (got ${JSON.stringify(text)})`);
  else if (Number.isSafeInteger(replication) && n > replication) {
    // Kafka would accept the topic and then refuse every acks=all write to it.
    problems.push(`ORDERS_TOPIC_MIN_INSYNC_REPLICAS (${n}) must not exceed ORDERS_TOPIC_REPLICATION (${replication}): no write could ever be acknowledged`);
  } else return n;
  return undefined;
}

function kafkaSecurity(protocol: string, values: Record<string, string | number>): Record<string, string> {
  if (protocol === 'plaintext') return {};
  const settings: Record<string, string> = { 'security.protocol': protocol };
  if (protocol.startsWith('sasl')) {
    settings['sasl.mechanisms'] = String(values.KAFKA_SASL_MECHANISM);
    settings['sasl.username'] = String(values.KAFKA_SASL_USERNAME);
    settings['sasl.password'] = String(values.KAFKA_SASL_PASSWORD);
  }
  if (protocol.endsWith('ssl') && values.KAFKA_SSL_CA_LOCATION) settings['ssl.ca.location'] = String(values.KAFKA_SSL_CA_LOCATION);
  return settings;
}
