// Order events in and out of Kafka. The value schema (subject `<topic>-value`, Confluent's
// TopicNameStrategy) is a top-level union of the three event records (schemas/order-events.avsc),
// so one subject and one compatibility check cover every event type of the topic, and the union
// is BACKWARD compatible with the first version (a bare OrderCreated record): old messages decode.
// Encoding is synchronous on the hot path: the schema id of our contract is looked up once at
// start-up (contract.ts) and framed in front of every record. Decoding resolves each writer schema
// (by the id in the message) against our reader schema once, so producers on an older or newer
// compatible version are read correctly.
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import type { SchemaRegistry } from './registry.js';
import { frame, payloadOf, schemaIdOf, HEADER_BYTES } from './wire.js';
import type { EventType, OrderEvent } from '../domain/order.js';

const schemaText = (file: string) => readFileSync(new URL(`../../schemas/${file}`, import.meta.url), 'utf8');
/** The first version of the contract: OrderCreated alone (kept to test evolution against it). */
export const ORDER_CREATED_SCHEMA = schemaText('order-created.avsc');
/** The contract of the topic today: a union of OrderCreated, OrderCancelled and StockAdded. */
export const ORDER_EVENTS_SCHEMA = schemaText('order-events.avsc');

const NAMESPACE = 'orderstream.orders.';
/** Most ids decode() keeps to share (see withSharedIds). */
const SHARED_IDS = 65_536;

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

/** encode() before the contract was looked up: the registry has not answered yet (transient). */
export class SchemaNotResolvedError extends Error {
  override readonly name = 'SchemaNotResolvedError';
}

type Resolver = ReturnType<avro.Type['createResolver']>;

export class OrderSerde {
  private readonly readerType: avro.Type;
  private readonly resolvers = new Map<number, Resolver | UnknownSchemaError>();
  private schemaId = -1;
  /** The union's records by branch index, read directly when the writer schema is ours. */
  private readonly branches: ReadonlyArray<{ type: EventType; record: avro.Type }>;
  /** Writer schema ids whose schema is exactly ours (besides the registered one). */
  private readonly sameAsOurs = new Set<number>();
  /** Each product and user id decoded, once: see withSharedIds(). */
  private readonly ids = new Map<string, string>();

  constructor(
    private readonly registry: SchemaRegistry,
    private readonly subject: string,
    private readonly schema: string = ORDER_EVENTS_SCHEMA,
  ) {
    // Logical types (uuid, timestamp-millis) stay plain strings and numbers in memory: no Date
    // objects on the hot path. The registry still gets the full contract, docs and logical types.
    // The top-level union of records is wrapped — a value is { '<full record name>': record }, which
    // names the event type — while a nullable field inside a record stays a plain value or null.
    this.readerType = avro.Type.forSchema(JSON.parse(schema) as avro.Schema, { wrapUnions: 'auto' });
    const union = (this.readerType as unknown as { types?: avro.Type[] }).types ?? [];
    this.branches = union.map((record) => ({ type: record.name!.slice(NAMESPACE.length) as EventType, record }));
  }

  /** The subject this serde's contract lives under (TopicNameStrategy). */
  get subjectName(): string {
    return this.subject;
  }

  /** The schema text this serde reads and writes with. */
  get schemaText(): string {
    return this.schema;
  }

  /** Takes the id that contract.ts found (or registered) for our schema; encode() frames it. */
  useSchemaId(id: number): void {
    this.schemaId = id;
    this.resolvers.set(id, this.readerType.createResolver(this.readerType));
  }

  get registeredId(): number {
    return this.schemaId;
  }

  encode(e: OrderEvent): Buffer {
    if (this.schemaId < 0) throw new SchemaNotResolvedError(`the schema id of ${this.subject} is not known yet (registry)`);
    return frame(this.schemaId, this.readerType.toBuffer({ [NAMESPACE + e.type]: e.event }));
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

  /**
   * Throws WireFormatError, UnknownSchemaError or AvroDecodeError for messages that can never be read.
   *
   * Hot path (every message the processor reads): when the writer schema is ours, the union's
   * branch index (one zigzag byte: 0, 2, 4…) picks the record type, which reads the payload in
   * place — no payload slice, no resolver, no union wrapper object; one record and one event
   * object per message. Any other writer schema goes through its resolver.
   */
  decode(message: Buffer): OrderEvent {
    const id = schemaIdOf(message);
    if (id === this.schemaId || this.sameAsOurs.has(id)) {
      const tag = message[HEADER_BYTES];
      const branch = tag !== undefined && tag < 0x80 && (tag & 1) === 0 ? this.branches[tag >> 1] : undefined;
      if (branch) {
        let decoded: { value: unknown; offset: number };
        try {
          decoded = branch.record.decode(message, HEADER_BYTES + 1);
        } catch (err) {
          throw new AvroDecodeError(`not a record of schema ${id}: ${(err as Error).message}`);
        }
        if (decoded.offset < 0) throw new AvroDecodeError(`not a record of schema ${id}: truncated buffer`);
        return this.withSharedIds({ type: branch.type, event: decoded.value } as OrderEvent);
      }
    }
    const resolver = this.resolvers.get(id);
    if (resolver === undefined) throw new Error(`schema ${id} not prepared: call prepare() first`);
    if (resolver instanceof UnknownSchemaError) throw resolver;
    let wrapped: Record<string, unknown>;
    try {
      wrapped = this.readerType.fromBuffer(payloadOf(message), resolver, true) as Record<string, unknown>;
    } catch (err) {
      throw new AvroDecodeError(`not a record of schema ${id}: ${(err as Error).message}`);
    }
    for (const name in wrapped) {
      return this.withSharedIds({ type: name.slice(NAMESPACE.length) as EventType, event: wrapped[name] } as OrderEvent);
    }
    throw new AvroDecodeError(`schema ${id}: empty union value`);
  }

  /**
   * Events repeat a few ids many times: every event names a product of the catalog, and a user
   * places many orders. An event waits in its lane for a batch and is applied, long enough for V8
   * to move it to the old generation, whose size and collections are much of the processor's
   * memory and CPU: one string per product and per user seen rather than one per event saves
   * each event up to ~80 bytes there. Equal strings are interchangeable, so one map serves both;
   * bounded: it holds at most SHARED_IDS strings (a few MB) and past that starts over (many users
   * then share less, at the cost of a look-up per id).
   */
  private withSharedIds(e: OrderEvent): OrderEvent {
    const event = e.event as { productId: unknown; userId?: unknown };
    if (typeof event.productId === 'string') event.productId = this.shared(event.productId);
    if (typeof event.userId === 'string') event.userId = this.shared(event.userId);
    return e; // a field that is not a string is left for invalidEvent() to name
  }

  private shared(id: string): string {
    const known = this.ids.get(id);
    if (known !== undefined) return known;
    if (this.ids.size >= SHARED_IDS) this.ids.clear();
    this.ids.set(id, id);
    return id;
  }

  private async resolverFor(id: number): Promise<Resolver | UnknownSchemaError> {
    try {
      const writer = await this.registry.getSchema(id);
      // The registry client parses Avro schemas with the same avsc, so the writer is an avsc Type.
      const writerType = avro.Type.forSchema((writer as unknown as avro.Type).schema() as avro.Schema);
      if (writerType.equals(this.readerType)) this.sameAsOurs.add(id);
      return this.readerType.createResolver(writerType);
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 404) return new UnknownSchemaError(`schema id ${id} is not in the registry`);
      if (err instanceof Error && /incompatible|cannot read/i.test(err.message)) {
        return new UnknownSchemaError(`schema id ${id} cannot be read as an order event: ${err.message}`);
      }
      throw err; // registry unreachable: transient, the caller retries
    }
  }
}
