// Order events in and out of Kafka. Encoding is synchronous on the hot path: the schema is
// registered once at start-up and its id framed in front of every record. Decoding resolves each
// writer schema (by the id in the message) against our reader schema once, so producers on an
// older or newer compatible version are read correctly.
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { COMPATIBILITY, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { SchemaRegistry } from './registry.js';
import { frame, payloadOf, schemaIdOf } from './wire.js';
import type { OrderCreated } from '../domain/order.js';

const schemaFile = new URL('../../schemas/order-created.avsc', import.meta.url);
export const ORDER_CREATED_SCHEMA = readFileSync(schemaFile, 'utf8');

/** Subject naming of the Confluent TopicNameStrategy. */
export const valueSubject = (topic: string) => `${topic}-value`;

/** The schema id is unknown to the registry: permanent, the message goes to the DLQ. */
export class UnknownSchemaError extends Error {
  override readonly name = 'UnknownSchemaError';
}
/** The bytes after the header are not a record of the writer schema: permanent. */
export class AvroDecodeError extends Error {
  override readonly name = 'AvroDecodeError';
}

type Resolver = ReturnType<avro.Type['createResolver']>;

export class OrderSerde {
  private readonly readerType: avro.Type;
  private readonly resolvers = new Map<number, Resolver | UnknownSchemaError>();
  private schemaId = -1;

  constructor(
    private readonly registry: SchemaRegistry,
    private readonly subject: string,
    private readonly schema: string = ORDER_CREATED_SCHEMA,
  ) {
    // Logical types (uuid, timestamp-millis) stay plain strings and numbers in memory: no Date
    // objects on the hot path. The registry still gets the full contract, docs and logical types.
    this.readerType = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);
  }

  /** Registers the schema under the subject (BACKWARD compatibility) and remembers its id. */
  async register(): Promise<number> {
    const { id } = await this.registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(JSON.parse(this.schema)) },
      { subject: this.subject, compatibility: COMPATIBILITY.BACKWARD },
    );
    this.schemaId = id;
    this.resolvers.set(id, this.readerType.createResolver(this.readerType));
    return id;
  }

  get registeredId(): number {
    return this.schemaId;
  }

  encode(order: OrderCreated): Buffer {
    if (this.schemaId < 0) throw new Error('OrderSerde.register() must run before encode()');
    return frame(this.schemaId, this.readerType.toBuffer(order));
  }

  /**
   * Fetches the writer schemas of these messages that are not cached yet, so decode() can stay
   * synchronous. Messages that are not in the wire format are skipped here and fail in decode().
   */
  async prepare(messages: Iterable<Buffer>): Promise<void> {
    const missing = new Set<number>();
    for (const message of messages) {
      let id: number;
      try {
        id = schemaIdOf(message);
      } catch {
        continue;
      }
      if (!this.resolvers.has(id)) missing.add(id);
    }
    for (const id of missing) this.resolvers.set(id, await this.resolverFor(id));
  }

  /** Throws WireFormatError, UnknownSchemaError or AvroDecodeError for messages that can never be read. */
  decode(message: Buffer): OrderCreated {
    const id = schemaIdOf(message);
    const resolver = this.resolvers.get(id);
    if (resolver === undefined) throw new Error(`schema ${id} not prepared: call prepare() first`);
    if (resolver instanceof UnknownSchemaError) throw resolver;
    try {
      return this.readerType.fromBuffer(payloadOf(message), resolver, true) as OrderCreated;
    } catch (err) {
      throw new AvroDecodeError(`not a record of schema ${id}: ${(err as Error).message}`);
    }
  }

  private async resolverFor(id: number): Promise<Resolver | UnknownSchemaError> {
    try {
      const writer = await this.registry.getSchema(id);
      // The registry client parses Avro schemas with the same avsc, so the writer is an avsc Type.
      const writerType = avro.Type.forSchema((writer as unknown as avro.Type).schema() as avro.Schema);
      return this.readerType.createResolver(writerType);
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 404) return new UnknownSchemaError(`schema id ${id} is not in the registry`);
      if (err instanceof Error && /incompatible|cannot read/i.test(err.message)) {
        return new UnknownSchemaError(`schema id ${id} cannot be read as OrderCreated: ${err.message}`);
      }
      throw err; // registry unreachable: transient, the caller retries
    }
  }
}
