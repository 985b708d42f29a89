import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

/**
 * Responses are serialized by fast-json-stringify from the JSON Schema of each route's zod response
 * schema, compiled once per route. Like the zod serializer it writes only declared fields — nothing
 * undeclared leaks out — but it does not re-validate every response at run time, which cost a tenth of
 * a list request's time. Schemas that have no JSON Schema form fall back to the zod serializer.
 */
export const responseSerializerCompiler: FastifySerializerCompiler<z.ZodType> = (route) => {
  const schema = route.schema;
  if (schema instanceof z.ZodType) {
    try {
      const json = z.toJSONSchema(schema, { target: 'draft-7', io: 'output', unrepresentable: 'throw', reused: 'inline' });
      const stringify = fastJson(json as Parameters<typeof fastJson>[0]);
      return (data: unknown) => stringify(data);
    } catch {
      // fall through
    }
  }
  return zodSerializerCompiler(route as Parameters<typeof zodSerializerCompiler>[0]) as (data: unknown) => string;
};
