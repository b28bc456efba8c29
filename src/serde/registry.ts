// The Schema Registry, one client per process, both speaking the Confluent REST API.
//
// - @kafkajs/confluent-schema-registry fetches and parses writer schemas by id (GET /schemas/ids/{id})
//   and caches them: the decode path.
// - RegistryRest is a thin fetch wrapper for the few subject calls the library does not offer or
//   makes in a way that races on some registries (list versions, read a version, register, subject
//   config): the contract look-up in contract.ts.
//
// Both send the same basic-auth credentials (SCHEMA_REGISTRY_USERNAME / _PASSWORD or URL user-info).
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { RegistryConfig } from '../config/index.js';

export type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';

export function createRegistry(registry: RegistryConfig): SchemaRegistry {
  return new SchemaRegistry({
    host: registry.url,
    clientId: 'order-stream',
    retry: { retries: 3 },
    ...(registry.auth ? { auth: registry.auth } : {}),
  });
}

/** An HTTP answer other than 2xx, with Confluent's `error_code` when the registry sent one. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly status: number,
    readonly errorCode: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface RegistryRest {
  readonly url: string;
  request<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export function registryRest(registry: RegistryConfig, timeoutMs = 5000): RegistryRest {
  const headers: Record<string, string> = { accept: `${CONTENT_TYPE}, application/json`, 'content-type': CONTENT_TYPE };
  if (registry.auth) headers.authorization = `Basic ${Buffer.from(`${registry.auth.username}:${registry.auth.password}`).toString('base64')}`;
  return {
    url: registry.url,
    async request<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
      let response: Response;
      try {
        response = await fetch(`${registry.url}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        // fetch hides the reason (ECONNREFUSED, a timeout) in `cause`: name it for readiness and logs.
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new Error(`registry unreachable (${method} ${path}): ${cause?.code ?? cause?.message ?? (err as Error).message}`);
      }
      const text = await response.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (!response.ok) {
        const { error_code: errorCode, message } = (json ?? {}) as { error_code?: number; message?: string };
        const why = response.status === 401 || response.status === 403 ? 'check SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD' : (message ?? text.slice(0, 200));
        throw new RegistryError(response.status, errorCode, `registry answered ${response.status} to ${method} ${path}: ${why}`);
      }
      return json as T;
    },
  };
}
