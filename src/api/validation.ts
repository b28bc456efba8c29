// Two validators: path, query and headers arrive as strings and are coerced ("10" → 10); JSON
// bodies are not — `"qty": true` or `"qty": "10"` is a client mistake and gets a 400, not a guess.
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

/**
 * Sets the validators of `scope` (encapsulated: the scope's routes only). The scope's shared
 * schemas ($ref targets) are handed to both when a route's schema is compiled, which happens once
 * every plugin has loaded: addSchema may come before or after this call.
 */
export function strictBodies(scope: FastifyInstance): void {
  const make = (coerceTypes: boolean | 'array') => {
    const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
    addFormats.default(ajv);
    return ajv;
  };
  const body = make(false);
  const rest = make('array');
  const withSharedSchemas = (ajv: Ajv) => {
    for (const schema of Object.values(scope.getSchemas()) as Array<{ $id?: string }>) {
      if (schema.$id && !ajv.getSchema(schema.$id)) ajv.addSchema(schema);
    }
    return ajv;
  };
  scope.setValidatorCompiler(({ schema, httpPart }) => withSharedSchemas(httpPart === 'body' ? body : rest).compile(schema));
}
