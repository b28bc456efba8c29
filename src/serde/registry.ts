// The Schema Registry client, one per process. @kafkajs/confluent-schema-registry speaks the
// Confluent REST API (register, schemas by id, subject config) and caches what it has fetched.
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';

export type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';

export function createRegistry(url: string): SchemaRegistry {
  return new SchemaRegistry({ host: url, clientId: 'order-stream', retry: { retries: 3 } });
}
