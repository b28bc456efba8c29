// Finds (or registers) the schema id of our Avro contract under its subject.
//
// Registration is a deploy step (`order-stream migrate`); a replica only looks its contract up:
// the newest version of the subject whose schema equals ours. It registers only where
// SCHEMA_AUTO_REGISTER allows (local development, tests).
//
// Confluent semantics: registering a schema the subject already holds returns its id, and POST
// /subjects/{subject} looks a schema up. Some registries deviate — Apicurio 2.1.5 (the local one)
// stores concurrent identical registrations as duplicate versions and then fails both calls with
// "Expected only one result but got multiple", and its look-up answers 404 for subjects it holds.
// So the look-up here only lists the subject's versions and reads them (GET calls every registry
// serves alike), and registrations are run one at a time across processes (`exclusive`, a
// PostgreSQL advisory lock) after a second look-up, so a first rollout leaves one version.
import type { RegistryRest } from './registry.js';
import { RegistryError } from './registry.js';

export interface Contract {
  subject: string;
  id: number;
  version: number;
  /** True when this call registered the schema. */
  registered: boolean;
  /** Something an operator should know that did not stop us (e.g. compatibility not settable). */
  warning?: string;
}

export interface ContractOptions {
  rest: RegistryRest;
  subject: string;
  /** The schema text (JSON) of this build. */
  schema: string;
  /** Runs the work alone across every process that registers (a cross-process lock). */
  exclusive?: <T>(work: () => Promise<T>) => Promise<T>;
}

/** The subject holds no version equal to ours and this process may not register it. */
export class ContractMissingError extends Error {
  override readonly name = 'ContractMissingError';
}

interface SubjectVersion {
  id: number;
  version: number;
  schema: string;
  schemaType?: string;
}

const path = (subject: string) => `/subjects/${encodeURIComponent(subject)}`;

/** Confluent's 40401 (subject not found) or 40402 (version not found); Apicurio answers 404 alike. */
const notFound = (err: unknown) => err instanceof RegistryError && err.status === 404;

/** JSON with object keys sorted: two texts of one schema compare equal whatever their formatting. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Same parsed schema (names, types, logical types, defaults, docs), regardless of whitespace and key order. */
export function sameSchema(a: string, b: string): boolean {
  try {
    return canonical(JSON.parse(a)) === canonical(JSON.parse(b));
  } catch {
    return false;
  }
}

/** The subject's versions, oldest first; empty when the subject does not exist. */
export async function listVersions(rest: RegistryRest, subject: string): Promise<number[]> {
  try {
    const versions = await rest.request<number[]>('GET', `${path(subject)}/versions`);
    return [...versions].sort((a, b) => a - b);
  } catch (err) {
    if (notFound(err)) return [];
    throw err;
  }
}

/** The newest version of the subject whose schema equals ours; duplicates of it are harmless. */
export async function findContract(rest: RegistryRest, subject: string, schema: string): Promise<Omit<Contract, 'registered'> | undefined> {
  return (await lookUp(rest, subject, schema)).found;
}

async function lookUp(rest: RegistryRest, subject: string, schema: string): Promise<{ found?: Omit<Contract, 'registered'>; versions: number }> {
  const versions = await listVersions(rest, subject);
  for (const version of [...versions].reverse()) {
    let found: SubjectVersion;
    try {
      found = await rest.request<SubjectVersion>('GET', `${path(subject)}/versions/${version}`);
    } catch (err) {
      if (notFound(err)) continue; // deleted between the listing and the read
      throw err;
    }
    if ((found.schemaType ?? 'AVRO') === 'AVRO' && sameSchema(found.schema, schema)) return { found: { subject, id: found.id, version: found.version }, versions: versions.length };
  }
  return { versions: versions.length };
}

/**
 * Registers our schema unless the subject already holds it (the deploy step, and replicas with
 * SCHEMA_AUTO_REGISTER). A schema the subject's compatibility refuses fails with the registry's
 * 409; the caller reports it.
 */
export async function registerContract(options: ContractOptions): Promise<Contract> {
  const { rest, subject, schema } = options;
  const exclusive = options.exclusive ?? (<T>(work: () => Promise<T>) => work());
  return exclusive(async () => {
    const before = await lookUp(rest, subject, schema);
    if (before.found) return { ...before.found, registered: false };
    const isNew = before.versions === 0;
    try {
      await rest.request<{ id: number }>('POST', `${path(subject)}/versions`, { schema: JSON.stringify(JSON.parse(schema)) });
    } catch (err) {
      // Another registrant won a race we could not lock out (Apicurio answers 409 "already exists"
      // or 500 "Expected only one result"): if our schema is there now, that is all we wanted.
      const raced = await findContract(rest, subject, schema).catch(() => undefined);
      if (raced) return { ...raced, registered: false };
      throw err;
    }
    const contract = await findContract(rest, subject, schema);
    if (!contract) throw new Error(`registered the schema under ${subject}, but the registry does not list it`);
    let warning: string | undefined;
    if (isNew) {
      // Every later version must read what the topic holds.
      const compatibility = 'BACKWARD';
      try {
        await rest.request('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility });
      } catch (err) {
        warning = `could not set ${compatibility} compatibility on ${subject}: ${(err as Error).message}`;
      }
    }
    return { ...contract, registered: true, ...(warning ? { warning } : {}) };
  });
}

/** A replica's look-up: find our version, or register it when allowed. */
export async function resolveContract(options: ContractOptions & { autoRegister: boolean }): Promise<Contract> {
  const found = await findContract(options.rest, options.subject, options.schema);
  if (found) return { ...found, registered: false };
  if (!options.autoRegister) {
    throw new ContractMissingError(
      `subject ${options.subject} holds no version equal to this build's schema: run \`order-stream migrate\` (the deploy step that registers it), or set SCHEMA_AUTO_REGISTER=true`,
    );
  }
  return registerContract(options);
}

/** Readiness: the registry answers (any HTTP answer but 5xx, 401 and 403 counts), without looking schemas up by content. */
export async function registryReachable(rest: RegistryRest, schemaId: number | undefined): Promise<void> {
  try {
    await rest.request('GET', schemaId === undefined ? '/subjects' : `/schemas/ids/${schemaId}`);
  } catch (err) {
    if (err instanceof RegistryError && err.status < 500 && err.status !== 401 && err.status !== 403) return;
    throw err;
  }
}

/** For tools, tests and benchmarks: the serde's contract found or registered, and used for encoding. */
export async function useContract(
  serde: { subjectName: string; schemaText: string; useSchemaId(id: number): void },
  rest: RegistryRest,
  autoRegister = true,
): Promise<Contract> {
  const contract = await resolveContract({ rest, subject: serde.subjectName, schema: serde.schemaText, autoRegister });
  serde.useSchemaId(contract.id);
  return contract;
}
