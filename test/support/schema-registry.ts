// LOCAL STAND-IN for a Confluent-compatible Schema Registry — for the dev/test stack only.
// Production points SCHEMA_REGISTRY_URL at a real registry (Confluent Schema Registry, Apicurio's
// /apis/ccompat/v7, Karapace). It exists because none of those could be installed from the package
// registries this project's CI can reach (see README, "Local stack"). It implements the part of the
// Confluent REST API that @kafkajs/confluent-schema-registry and operators use, with the same
// status and error codes, Avro compatibility checks done by avsc, and state kept in a JSON file.
//
//   POST /subjects/:subject/versions           register → {id}            (409 when incompatible)
//   POST /subjects/:subject                    look up a schema → {subject,id,version,schema}
//   GET  /subjects, /subjects/:subject/versions, /subjects/:subject/versions/:version|latest
//   GET  /schemas/ids/:id                      → {schema}                 (404, error_code 40403)
//   GET|PUT /config, /config/:subject          compatibility level        (404, 40408 when unset)
//   POST /compatibility/subjects/:subject/versions/:version → {is_compatible}
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import Fastify, { type FastifyReply } from 'fastify';
import avro from 'avsc';

const LEVELS = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'] as const;
type Level = (typeof LEVELS)[number];

interface State {
  schemas: string[]; // index + 1 = id
  subjects: Record<string, number[]>; // subject → schema ids, index + 1 = version
  config: Record<string, Level>; // subject → level
  global: Level;
}

export interface RegistryOptions {
  port: number;
  host?: string;
  stateFile?: string;
}

class ApiError extends Error {
  constructor(readonly status: number, readonly code: number, message: string) {
    super(message);
  }
}

function canonical(schema: string): string {
  try {
    return JSON.stringify(avro.Type.forSchema(JSON.parse(schema) as avro.Schema).schema());
  } catch (err) {
    throw new ApiError(422, 42201, `Invalid schema: ${(err as Error).message}`);
  }
}

/** Can data written with `writer` be read with `reader`? (avsc refuses to build a resolver otherwise) */
function canRead(reader: string, writer: string): boolean {
  try {
    avro.Type.forSchema(JSON.parse(reader) as avro.Schema).createResolver(avro.Type.forSchema(JSON.parse(writer) as avro.Schema));
    return true;
  } catch {
    return false;
  }
}

export function createRegistryServer(options: RegistryOptions) {
  const state: State = options.stateFile && existsSync(options.stateFile)
    ? (JSON.parse(readFileSync(options.stateFile, 'utf8')) as State)
    : { schemas: [], subjects: {}, config: {}, global: 'BACKWARD' };
  const save = () => {
    if (!options.stateFile) return;
    writeFileSync(`${options.stateFile}.tmp`, JSON.stringify(state));
    renameSync(`${options.stateFile}.tmp`, options.stateFile);
  };

  const versionsOf = (subject: string) => {
    const versions = state.subjects[subject];
    if (!versions || versions.length === 0) throw new ApiError(404, 40401, `Subject '${subject}' not found.`);
    return versions;
  };
  const pickVersion = (subject: string, version: string) => {
    const versions = versionsOf(subject);
    const n = version === 'latest' || version === '-1' ? versions.length : Number(version);
    if (!Number.isInteger(n) || n < 1 || n > versions.length) throw new ApiError(404, 40402, `Version ${version} not found.`);
    const id = versions[n - 1]!;
    return { subject, id, version: n, schema: state.schemas[id - 1]! };
  };
  const compatible = (subject: string, schema: string, against?: number[]) => {
    const level = state.config[subject] ?? state.global;
    const ids = against ?? state.subjects[subject] ?? [];
    if (level === 'NONE' || ids.length === 0) return true;
    const previous = level.endsWith('TRANSITIVE') ? ids : ids.slice(-1);
    return previous.every((id) => {
      const old = state.schemas[id - 1]!;
      const backward = canRead(schema, old);
      const forward = canRead(old, schema);
      if (level.startsWith('BACKWARD')) return backward;
      if (level.startsWith('FORWARD')) return forward;
      return backward && forward;
    });
  };
  const level = (body: unknown): Level => {
    const value = (body as { compatibility?: unknown } | null)?.compatibility;
    if (typeof value !== 'string' || !LEVELS.includes(value.toUpperCase() as Level)) throw new ApiError(422, 42203, 'Invalid compatibility level');
    return value.toUpperCase() as Level;
  };
  const schemaOf = (body: unknown): string => {
    const b = body as { schema?: unknown; schemaType?: unknown } | null;
    if (typeof b?.schema !== 'string') throw new ApiError(422, 42201, 'Invalid schema: "schema" must be a string');
    if (b.schemaType !== undefined && b.schemaType !== 'AVRO') throw new ApiError(422, 42201, 'This stand-in only supports AVRO schemas');
    return canonical(b.schema);
  };

  const app = Fastify({ logger: false });
  for (const type of ['application/vnd.schemaregistry.v1+json', 'application/vnd.schemaregistry+json', 'application/octet-stream']) {
    app.addContentTypeParser(type, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'ignore'));
  }
  app.setErrorHandler((err, _request, reply: FastifyReply) => {
    if (err instanceof ApiError) return reply.code(err.status).send({ error_code: err.code, message: err.message });
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    return reply.code(status).send({ error_code: status * 100, message: (err as Error).message });
  });

  app.get('/', async () => ({}));
  app.get('/subjects', async () => Object.keys(state.subjects).filter((s) => state.subjects[s]!.length > 0));
  app.get<{ Params: { subject: string } }>('/subjects/:subject/versions', async (req) => versionsOf(req.params.subject).map((_, i) => i + 1));
  app.get<{ Params: { subject: string; version: string } }>('/subjects/:subject/versions/:version', async (req) => pickVersion(req.params.subject, req.params.version));
  app.get<{ Params: { subject: string; version: string } }>('/subjects/:subject/versions/:version/schema', async (req) => pickVersion(req.params.subject, req.params.version).schema);
  app.get<{ Params: { id: string } }>('/schemas/ids/:id', async (req) => {
    const schema = state.schemas[Number(req.params.id) - 1];
    if (schema === undefined) throw new ApiError(404, 40403, `Schema ${req.params.id} not found`);
    return { schema };
  });

  app.post<{ Params: { subject: string } }>('/subjects/:subject/versions', async (req) => {
    const { subject } = req.params;
    const schema = schemaOf(req.body);
    const versions = (state.subjects[subject] ??= []);
    const existing = state.schemas.indexOf(schema) + 1;
    if (existing > 0 && versions.includes(existing)) return { id: existing };
    if (!compatible(subject, schema)) throw new ApiError(409, 409, `Schema being registered is incompatible with an earlier schema for subject "${subject}"`);
    const id = existing > 0 ? existing : state.schemas.push(schema);
    versions.push(id);
    save();
    return { id };
  });
  app.post<{ Params: { subject: string } }>('/subjects/:subject', async (req) => {
    const { subject } = req.params;
    const schema = schemaOf(req.body);
    const versions = versionsOf(subject);
    const index = versions.findIndex((id) => state.schemas[id - 1] === schema);
    if (index < 0) throw new ApiError(404, 40403, 'Schema not found');
    return { subject, id: versions[index], version: index + 1, schema };
  });
  app.post<{ Params: { subject: string; version: string } }>('/compatibility/subjects/:subject/versions/:version', async (req) => {
    const { subject, version } = req.params;
    const target = pickVersion(subject, version);
    return { is_compatible: compatible(subject, schemaOf(req.body), [target.id]) };
  });

  app.get('/config', async () => ({ compatibilityLevel: state.global }));
  app.put('/config', async (req) => {
    state.global = level(req.body);
    save();
    return { compatibility: state.global };
  });
  app.get<{ Params: { subject: string } }>('/config/:subject', async (req) => {
    const value = state.config[req.params.subject];
    if (!value) throw new ApiError(404, 40408, `Subject '${req.params.subject}' does not have subject-level compatibility configured`);
    return { compatibilityLevel: value };
  });
  app.put<{ Params: { subject: string } }>('/config/:subject', async (req) => {
    state.config[req.params.subject] = level(req.body);
    save();
    return { compatibility: state.config[req.params.subject] };
  });

  return {
    app,
    listen: () => app.listen({ port: options.port, host: options.host ?? '127.0.0.1' }),
  };
}

// Run directly: node --import tsx test/support/schema-registry.ts <port> <state-file>
if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2] ?? 18081);
  const server = createRegistryServer({ port, stateFile: process.argv[3] });
  await server.listen();
  console.log(`schema registry stand-in listening on http://127.0.0.1:${port}`);
  const stop = () => void server.app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
