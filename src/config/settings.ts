// The configuration contract: every setting the service reads, its environment variable, default
// and limits. The README table, config/*.json, deploy manifests and tests all use these names.

export type Kind = 'string' | 'integer' | 'url' | 'brokers' | 'level' | 'topic' | 'optional' | 'boolean';

export interface Setting {
  readonly name: string;
  readonly kind: Kind;
  readonly description: string;
  /** No default means the setting is required. */
  readonly default?: string | number;
  readonly min?: number;
  readonly max?: number;
  /** Never logged, never echoed in errors. */
  readonly secret?: boolean;
}

export const SETTINGS = [
  { name: 'KAFKA_BROKERS', kind: 'brokers', description: 'Kafka bootstrap servers, comma-separated host:port' },
  { name: 'KAFKA_SECURITY_PROTOCOL', kind: 'string', default: 'plaintext', description: 'plaintext, ssl, sasl_plaintext or sasl_ssl (librdkafka security.protocol)' },
  { name: 'KAFKA_SASL_MECHANISM', kind: 'optional', default: '', description: 'PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 when SASL is on' },
  { name: 'KAFKA_SASL_USERNAME', kind: 'optional', default: '', description: 'SASL user name' },
  { name: 'KAFKA_SASL_PASSWORD', kind: 'optional', default: '', description: 'SASL password', secret: true },
  { name: 'KAFKA_SSL_CA_LOCATION', kind: 'optional', default: '', description: 'CA bundle file to verify the brokers (empty: system CAs)' },
  { name: 'SCHEMA_REGISTRY_URL', kind: 'url', description: 'Confluent-compatible Schema Registry base URL (may carry user:password@ for basic auth)', secret: true },
  { name: 'SCHEMA_REGISTRY_USERNAME', kind: 'optional', default: '', description: 'Registry basic-auth user (Confluent Cloud API key, Karapace or Apicurio user); with SCHEMA_REGISTRY_PASSWORD' },
  { name: 'SCHEMA_REGISTRY_PASSWORD', kind: 'optional', default: '', description: 'Registry basic-auth password (Confluent Cloud API secret)', secret: true },
  { name: 'SCHEMA_AUTO_REGISTER', kind: 'boolean', default: 'false', description: 'Replicas register the order schema when the subject lacks it (true in config/development.json and test.json); otherwise `order-stream migrate` must have' },
  { name: 'DATABASE_URL', kind: 'url', description: 'PostgreSQL connection URL', secret: true },
  { name: 'PORT', kind: 'integer', default: 8080, min: 0, max: 65535, description: 'Public HTTP port: the API and its OpenAPI document (/docs) only' },
  { name: 'HOST', kind: 'string', default: '0.0.0.0', description: 'HTTP listen address' },
  { name: 'MANAGEMENT_PORT', kind: 'integer', default: 9090, min: 0, max: 65535, description: 'Management port: /healthz, /readyz, /metrics, never behind auth; keep it off the public Service (every role listens here)' },
  { name: 'AUTH_MODE', kind: 'string', default: 'jwt', description: 'jwt: every API request needs a bearer token (JWT); off: no authentication (config/development.json and test.json; logs a warning at start)' },
  { name: 'AUTH_JWKS_URL', kind: 'optional', default: '', description: "The issuer's JWKS URL (OIDC jwks_uri); keys are cached and refetched for an unknown kid (rotation)" },
  { name: 'AUTH_PUBLIC_KEY_FILE', kind: 'optional', default: '', description: 'Instead of a JWKS URL: a PEM public key (SPKI), a JWK or a JWKS file; read once at start' },
  { name: 'AUTH_ISSUER', kind: 'optional', default: '', description: 'Expected iss of tokens (required with AUTH_MODE=jwt)' },
  { name: 'AUTH_AUDIENCE', kind: 'optional', default: '', description: 'Expected aud of tokens (required with AUTH_MODE=jwt)' },
  { name: 'AUTH_USER_CLAIM', kind: 'string', default: 'sub', description: 'Claim holding the user id that must equal :userId on order routes' },
  { name: 'AUTH_CLOCK_SKEW_SECONDS', kind: 'integer', default: 30, min: 0, max: 300, description: 'Tolerance on exp and nbf for clocks that disagree' },
  { name: 'AUTH_JWKS_COOLDOWN_SECONDS', kind: 'integer', default: 30, min: 0, max: 3600, description: 'Least time between two JWKS fetches (an unknown kid refetches at most this often)' },
  { name: 'RATE_LIMIT_MAX', kind: 'integer', default: 1200, min: 0, max: 10000000, description: 'Requests per identity (user claim; client address when anonymous) per window and replica; 0: off (development and test)' },
  { name: 'RATE_LIMIT_WINDOW_SECONDS', kind: 'integer', default: 60, min: 1, max: 86400, description: 'Window of RATE_LIMIT_MAX' },
  { name: 'API_MAX_WAITERS', kind: 'integer', default: 10000, min: 0, max: 1000000, description: 'Most requests holding a Prefer: wait at once per replica; above it the answer is 202 PENDING at once' },
  { name: 'HTTP_BODY_LIMIT_BYTES', kind: 'integer', default: 16384, min: 256, max: 1048576, description: 'Largest request body accepted (413 above)' },
  { name: 'API_PRODUCE_TIMEOUT_MS', kind: 'integer', default: 5000, min: 100, max: 120000, description: 'Longest wait for Kafka to acknowledge an order before answering 503' },
  { name: 'API_MAX_WAIT_SECONDS', kind: 'integer', default: 30, min: 0, max: 300, description: 'Cap on the Prefer: wait=N a client may ask for' },
  { name: 'ORDERS_TOPIC', kind: 'topic', default: 'orders', description: 'Topic of order events (key = productId)' },
  { name: 'ORDERS_DLQ_TOPIC', kind: 'topic', default: 'orders.dlq', description: 'Dead-letter topic for messages that cannot be applied' },
  { name: 'ORDERS_TOPIC_PARTITIONS', kind: 'integer', default: 6, min: 1, max: 10000, description: 'Partitions when the service creates the topics' },
  { name: 'ORDERS_TOPIC_REPLICATION', kind: 'integer', default: 1, min: 1, max: 32, description: 'Replication factor when the service creates the topics' },
  { name: 'ORDERS_TOPIC_MIN_INSYNC_REPLICAS', kind: 'optional', default: '', description: 'min.insync.replicas of the topics the service creates: an order is acknowledged only once this many replicas hold it (2 with replication 3; at most the replication factor); empty: the brokers\' default' },
  { name: 'PROCESSOR_GROUP_ID', kind: 'string', default: 'order-processor', description: 'Consumer group of the processor role' },
  { name: 'PROCESSOR_BATCH_MAX_MESSAGES', kind: 'integer', default: 3500, min: 1, max: 100000, description: 'Most messages applied in one database transaction' },
  { name: 'PROCESSOR_BATCH_MAX_BYTES', kind: 'integer', default: 4194304, min: 1024, max: 268435456, description: 'Most message bytes in one batch' },
  { name: 'PROCESSOR_BATCH_WAIT_MS', kind: 'integer', default: 20, min: 0, max: 10000, description: 'Longest wait for a batch to fill' },
  { name: 'PROCESSOR_APPLY_CONCURRENCY', kind: 'integer', default: 6, min: 1, max: 64, description: 'Transactions applied at once, each for its own set of partitions' },
  { name: 'SHUTDOWN_TIMEOUT_MS', kind: 'integer', default: 20000, min: 100, max: 600000, description: 'On SIGTERM, finish in-flight work and exit within this time' },
  { name: 'DATABASE_POOL_MAX', kind: 'integer', default: 10, min: 1, max: 1000, description: 'PostgreSQL pool size per process' },
  { name: 'LOG_LEVEL', kind: 'level', default: 'info', description: 'pino level: fatal, error, warn, info, debug, trace, silent' },
] as const satisfies readonly Setting[];

export type SettingName = (typeof SETTINGS)[number]['name'];
