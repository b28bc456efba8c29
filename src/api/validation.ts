// Two validators: path, query and headers arrive as strings and are coerced ("10" → 10); JSON
// bodies are not — `"qty": true` or `"qty": "10"` is a client mistake and gets a 400, not a guess.
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

export function strictBodies(app: FastifyInstance): void {
  const make = (coerceTypes: boolean | 'array') => {
    const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
    addFormats.default(ajv);
    return ajv;
  };
  const body = make(false);
  const rest = make('array');
  // Shared schemas ($ref targets) must be known to both.
  for (const schema of Object.values(app.getSchemas())) {
    body.addSchema(schema as object);
    rest.addSchema(schema as object);
  }
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : rest).compile(schema));
}
