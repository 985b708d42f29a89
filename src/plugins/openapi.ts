import { STATUS_CODES } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import swagger, { type SwaggerTransform, type SwaggerTransformObject } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import type { CollectionDefinition } from '../records/definition.js';
import { completeContract, type OpenApiDocument } from './openapi-contract.js';

export interface OpenApiOptions {
  version: string;
  collections: readonly CollectionDefinition[];
  /** Absolute URL the service is reached at (PUBLIC_BASE_URL, else the listen address). */
  serverUrl: string;
}

type Io = 'input' | 'output';
type JsonObject = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';
/** Route schemas first point at `<id>__io_<input|output>`; the final component names are chosen once all are known. */
const PLACEHOLDER = /^#\/components\/schemas\/(.+)__io_(input|output)$/;

/**
 * Turns the routes' zod schemas into OpenAPI 3.1 (JSON Schema 2020-12) with every schema registered with
 * `.meta({ id })` as a component.
 *
 * Why not fastify-type-provider-zod's `jsonSchemaTransform`/`jsonSchemaTransformObject`: they name the
 * input form of every registered id `<id>Input`, so a schema registered as `OrgUnitInput` beside one
 * registered as `OrgUnit` is refused as a collision; they emit both forms of every registered schema,
 * used or not; and they find a schema's id by object identity in a copy of the registry, so a schema
 * registered twice under one id is referenced under its bare id whatever its direction. Here a component is
 * looked up by its id in zod's global registry, only what the routes use is emitted, and a schema whose
 * request (input) and response (output) forms differ gets `<id>` for the response and `<id>Input` for
 * the request form; forms that are the same share one component.
 */
export function createSchemaTransforms() {
  /** Component id → its JSON Schema as request (input) and as response (output). */
  const components = new Map<string, Partial<Record<Io, JsonObject>>>();

  function collect(id: string, io: Io, schema: JsonObject) {
    const entry = components.get(id) ?? {};
    const existing = entry[io];
    if (existing && !isDeepStrictEqual(existing, schema)) {
      throw new Error(`OpenAPI: two different schemas are registered with the id "${id}" (${io}); give them distinct ids`);
    }
    entry[io] = schema;
    components.set(id, entry);
  }

  /** `#/$defs/X` → a placeholder for X in this direction; nested objects are rewritten recursively. */
  function rewriteDefs(value: unknown, io: Io): unknown {
    if (Array.isArray(value)) return value.map((v) => rewriteDefs(v, io));
    if (value === null || typeof value !== 'object') return value;
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') {
        if (!child.startsWith('#/$defs/')) throw new Error(`OpenAPI: unexpected $ref "${child}" in a route schema`);
        out[key] = `${COMPONENTS}${child.slice('#/$defs/'.length)}__io_${io}`;
      } else {
        out[key] = rewriteDefs(child, io);
      }
    }
    return out;
  }

  function override(io: Io) {
    return (ctx: { zodSchema: unknown; jsonSchema: JsonObject }) => {
      type Def = { type: string; options?: { _zod: { def: Def } }[] };
      const def = (ctx.zodSchema as { _zod: { def: Def } })._zod.def;
      const anyOf = ctx.jsonSchema['anyOf'];
      if (def.type === 'union' && def.options && Array.isArray(anyOf) && anyOf.length === def.options.length) {
        // z.undefined() members render as `{}` ("anything"); in a union they only mean "may be absent".
        ctx.jsonSchema['anyOf'] = anyOf.filter((_, i) => def.options?.[i]?._zod.def.type !== 'undefined');
      }
      if (io === 'output' && def.type === 'date') {
        ctx.jsonSchema['type'] = 'string';
        ctx.jsonSchema['format'] = 'date-time';
      }
      // A response of z.undefined() has no body: @fastify/swagger leaves out `content` for type null.
      if (io === 'output' && def.type === 'undefined') ctx.jsonSchema['type'] = 'null';
      // z.number().int() bounds integers to the safe range, which fits int64; narrower bounds may fit int32.
      if (ctx.jsonSchema['type'] === 'integer' && !ctx.jsonSchema['format']) {
        const { minimum, maximum } = ctx.jsonSchema as { minimum?: number; maximum?: number };
        const int32 = minimum !== undefined && maximum !== undefined && minimum >= -(2 ** 31) && maximum <= 2 ** 31 - 1;
        ctx.jsonSchema['format'] = int32 ? 'int32' : 'int64';
      }
    };
  }

  function toJson(schema: unknown, io: Io): JsonObject {
    if (!(schema instanceof z.ZodType)) throw new Error('OpenAPI: a route schema is not a zod schema');
    const result = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'any',
      cycles: 'ref',
      reused: 'inline',
      override: override(io),
    }) as JsonObject;
    const { $defs, $schema: _dialect, ...root } = result;
    for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, JsonObject>)) {
      collect(id, io, rewriteDefs(def, io) as JsonObject);
    }
    return rewriteDefs(root, io) as JsonObject;
  }

  /**
   * @fastify/swagger turns the properties of params, querystring and headers into parameters, but drops
   * every sibling of a `$ref` first, so a parameter typed by a component would lose its description.
   * Wrapped in `allOf` it keeps it; `unwrapParameterRefs` takes the wrapper off again afterwards.
   */
  function keepParameterDescriptions(schema: JsonObject): JsonObject {
    const properties = schema['properties'] as Record<string, JsonObject> | undefined;
    if (!properties) return schema;
    const wrapped = Object.fromEntries(
      Object.entries(properties).map(([name, property]) => {
        const { $ref, ...siblings } = property;
        return [name, typeof $ref === 'string' && Object.keys(siblings).length > 0 ? { ...siblings, allOf: [{ $ref }] } : property];
      }),
    );
    return { ...schema, properties: wrapped };
  }

  function responseObject(status: string, value: unknown): JsonObject {
    if (value instanceof z.ZodType) {
      const schema = toJson(value, 'output');
      // No body (204, 304): @fastify/swagger wants the bare `{ type: 'null', description }`.
      if (schema['type'] === 'null') return { ...schema, description: schema['description'] ?? STATUS_CODES[Number(status)] };
      const described = z.globalRegistry.get(value)?.description;
      return {
        description: [STATUS_CODES[Number(status)] ?? status, described].filter(Boolean).join(': '),
        content: { 'application/json': { schema } },
      };
    }
    // Already { description, headers?, content: { <media type>: { schema } } }.
    const { content, ...others } = value as { content: Record<string, { schema: unknown }> };
    return {
      ...others,
      content: Object.fromEntries(
        Object.entries(content).map(([mediaType, media]) => [mediaType, { ...media, schema: toJson(media.schema, 'output') }]),
      ),
    };
  }

  const transform: SwaggerTransform = ({ schema, url, route }) => {
    if (!schema) return { schema, url };
    const { response, headers, querystring, body, params, hide, ...rest } = schema as JsonObject & { response?: JsonObject };
    if (hide) return { schema: { hide: true }, url };
    const transformed: JsonObject = { ...rest };
    for (const [part, value] of Object.entries({ headers, querystring, params })) {
      if (value) transformed[part] = keepParameterDescriptions(toJson(value, 'input'));
    }
    if (body) transformed['body'] = toJson(body, 'input');
    if (response) {
      transformed['response'] = Object.fromEntries(Object.entries(response).map(([status, value]) => [status, responseObject(status, value)]));
    }
    // Protected routes say so: the bearer scheme, and the scope they need (in words and as `x-required-scope`).
    // The scope is not listed in the security requirement: for an `http` scheme OpenAPI 3.0 wants that list
    // empty (3.1 allows "role names", which generators ignore) and Spectral warns about it.
    const scope = route.config?.scope;
    if (scope) {
      const needs = `Needs a bearer token with the \`${scope}\` scope.`;
      transformed['security'] = [{ bearerAuth: [] }];
      transformed['x-required-scope'] = scope;
      transformed['description'] = typeof rest['description'] === 'string' ? `${rest['description']}\n\n${needs}` : needs;
    }
    return { schema: transformed as FastifySchema, url };
  };

  const transformObject: SwaggerTransformObject = (documentObject) => {
    if (!('openapiObject' in documentObject)) throw new Error('OpenAPI: only OpenAPI 3 documents are generated');
    const openapiObject = documentObject.openapiObject as JsonObject;
    const names = new Map<string, string>(); // `${id}__io_${io}` → component name
    const schemas: JsonObject = {};
    const taken = new Set(components.keys());
    for (const [id, forms] of [...components.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const { input, output } = forms;
      if (input && output && !isDeepStrictEqual(input, output)) {
        const inputName = `${id}Input`;
        if (taken.has(inputName)) {
          throw new Error(`OpenAPI: "${id}" differs as request and response, and "${inputName}" is already taken by another schema`);
        }
        taken.add(inputName);
        names.set(`${id}__io_output`, id).set(`${id}__io_input`, inputName);
        schemas[id] = output;
        schemas[inputName] = input;
      } else {
        names.set(`${id}__io_output`, id).set(`${id}__io_input`, id);
        schemas[id] = output ?? input;
      }
    }
    const resolve = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(resolve);
      if (value === null || typeof value !== 'object') return value;
      const out: JsonObject = {};
      for (const [key, child] of Object.entries(unwrapParameterRefs(value as JsonObject))) {
        const match = key === '$ref' && typeof child === 'string' ? PLACEHOLDER.exec(child) : null;
        if (match) {
          const name = names.get(`${match[1]}__io_${match[2]}`);
          if (!name) throw new Error(`OpenAPI: no component for ${child}`);
          out[key] = `${COMPONENTS}${name}`;
        } else {
          out[key] = resolve(child);
        }
      }
      return out;
    };
    const existing = (openapiObject['components'] ?? {}) as JsonObject;
    const sortedSchemas = Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
    return resolve({
      ...openapiObject,
      components: { ...existing, schemas: { ...((existing['schemas'] as JsonObject | undefined) ?? {}), ...sortedSchemas } },
    }) as ReturnType<SwaggerTransformObject>;
  };

  return { transform, transformObject };
}

/** A parameter's `{ schema: { allOf: [{ $ref }] } }` (see keepParameterDescriptions) → `{ schema: { $ref } }`. */
function unwrapParameterRefs(value: JsonObject): JsonObject {
  const schema = value['schema'] as JsonObject | undefined;
  if (typeof value['in'] !== 'string' || !schema || typeof schema !== 'object') return value;
  const allOf = schema['allOf'];
  if (Object.keys(schema).length === 1 && Array.isArray(allOf) && allOf.length === 1) return { ...value, schema: allOf[0] };
  return value;
}

/** OpenAPI 3.1 generated from the routes' zod schemas; served at /openapi.json with Swagger UI at /docs. */
export const openApiPlugin = fp(
  async (app: FastifyInstance, options: OpenApiOptions) => {
    const { transform, transformObject } = createSchemaTransforms();
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Officer Registry',
          version: options.version,
          description: [
            `Records of city-management law-enforcement personnel 城市管理执法人员管理信息子系统, synced by each city platform: ${options.collections.map((c) => `\`${c.name}\` (${c.description})`).join(', ')}.`,
            'Every collection answers the same verbs, including an idempotent upsert by the caller’s own key; `POST /v1/batch` writes up to 1000 operations and `GET /v1/changes` is the change feed. `GET /v1` describes the limits and what a token may do.',
            'Errors are RFC 9457 problems with a stable `code`. A known path asked with a method it does not answer gets 405 with `Allow`. Requests are rate-limited per client (`RateLimit-*` headers, 429 with `Retry-After`); responses are `Cache-Control: no-store`.',
          ].join('\n\n'),
          contact: { name: 'Officer Registry maintainers' },
          license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
        },
        servers: [{ url: options.serverUrl, description: 'This service: PUBLIC_BASE_URL in production, the listen address (local) by default' }],
        tags: [
          ...options.collections.map((c) => ({ name: c.tag, description: c.description })),
          { name: 'sync', description: 'Batch upserts and the change feed 数据同步' },
          { name: 'audit', description: 'Audit log 审计日志' },
          { name: 'stats', description: 'Quarterly and annual statistics 统计 (行政执法统计年报)' },
          { name: 'compliance', description: 'Compliance lists 合规检查: records that need action' },
          { name: 'operations', description: 'Health and readiness 运行状态' },
        ],
        components: {
          securitySchemes: {
            bearerAuth: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT',
              description:
                'Access token (RFC 9068 shape) with `scope` (space-separated) and `region` (GB/T 2260) claims; `iss`, `aud` and `exp` are checked and the algorithm is pinned, as RFC8725 (JWT best current practices) recommends',
            },
          },
        },
      },
      transform,
      transformObject: (documentObject) => completeContract(transformObject(documentObject) as OpenApiDocument, options.collections),
    });
    // Swagger UI needs scripts and styles: its pages get their own CSP instead of the API's `default-src 'none'`.
    await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
    // The document is the same for every request: its 1 MB of JSON is written once and every answer sends that
    // one buffer. Serialized per request, answers queued on connections that do not read them kept a copy each:
    // five clients pipelining 31 requests took the process past the image's 256 MB heap.
    let document: Buffer | undefined;
    app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
      document ??= Buffer.from(JSON.stringify(app.swagger()));
      return reply.type('application/json; charset=utf-8').send(document);
    });
  },
  { name: 'openapi', dependencies: ['problem'] },
);
