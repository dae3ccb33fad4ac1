import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';

/** The range of the INTEGER columns (PostgreSQL int4, MySQL INT): a larger id can match no row. */
export const INT32_MAX = 2_147_483_647;
export const INT32_MIN = -2_147_483_648;

/** No NUL character: PostgreSQL text cannot hold one, and the other databases cut or keep it silently. */
export const NO_NUL = '^[^\\u0000]*$';

/** A JSON schema for text bound by its column: at most `maxLength` characters, no NUL. */
export function textSchema(maxLength: number, minLength = 0) {
  return { type: 'string', minLength, maxLength, pattern: NO_NUL } as const;
}

/** A JSON schema for an id of an INTEGER column. */
export const idSchema = { type: 'integer', minimum: 1, maximum: INT32_MAX } as const;

/**
 * Validate each part of a request with the right Ajv settings. Fastify's default coerces types and
 * silently removes unknown properties everywhere, so `{"username": 12345}` became "12345" and extra
 * fields vanished. Bodies are JSON and carry their own types: no coercion, and unknown properties
 * fail (`additionalProperties: false` in the schema is an error, not a filter). The query string
 * and path parameters are text by nature, so their numbers are coerced, but unknown parameters fail
 * too. `allErrors` stays off, as in Fastify, so a hostile body cannot make validation expensive.
 */
export function useStrictValidation(app: FastifyInstance): void {
  const common = { useDefaults: true, removeAdditional: false, allErrors: false } as const;
  const body = new Ajv({ ...common, coerceTypes: false });
  const text = new Ajv({ ...common, coerceTypes: true });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema as object));
}
