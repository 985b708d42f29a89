import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

type JsonSchemaNode = { [key: string]: unknown };

/**
 * zod writes a nullable field as `anyOf: [X, {type: 'null'}]`, and fast-json-stringify picks an `anyOf`
 * branch by validating the value with ajv on every call — a fifth of a list request. Where X has a single
 * `type`, `{...X, type: [X.type, 'null']}` says the same and serializes without validating anything.
 */
export function withNullableTypes(root: unknown): unknown {
  const definitions = ((root as JsonSchemaNode | null)?.['definitions'] ?? {}) as Record<string, JsonSchemaNode>;
  // A nullable branch may be a reference (`{$ref: '#/definitions/X'}`): it stands for X's schema.
  const resolve = (branch: JsonSchemaNode): JsonSchemaNode => {
    const ref = branch['$ref'];
    if (typeof ref !== 'string' || !ref.startsWith('#/definitions/') || Object.keys(branch).length !== 1) return branch;
    return definitions[ref.slice('#/definitions/'.length)] ?? branch;
  };
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (node === null || typeof node !== 'object') return node;
    const out: JsonSchemaNode = {};
    for (const [key, value] of Object.entries(node)) out[key] = visit(value);
    const branches = out['anyOf'];
    if (Array.isArray(branches) && branches.length === 2) {
      const nullAt = branches.findIndex((b: JsonSchemaNode) => b['type'] === 'null' && Object.keys(b).length === 1);
      const other = nullAt >= 0 ? (visit(resolve(branches[1 - nullAt] as JsonSchemaNode)) as JsonSchemaNode) : undefined;
      if (other && typeof other['type'] === 'string' && other['anyOf'] === undefined && other['$ref'] === undefined) {
        const { anyOf: _anyOf, ...rest } = out;
        return { ...other, ...rest, type: [other['type'], 'null'] };
      }
    }
    return out;
  };
  return visit(root);
}

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
      const stringify = fastJson(withNullableTypes(json) as Parameters<typeof fastJson>[0]);
      return (data: unknown) => stringify(data);
    } catch {
      // fall through
    }
  }
  return zodSerializerCompiler(route as Parameters<typeof zodSerializerCompiler>[0]) as (data: unknown) => string;
};
