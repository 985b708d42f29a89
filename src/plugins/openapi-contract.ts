import { collectionExamples, EXAMPLE_BATCH } from '../collections/examples.js';
import type { CollectionDefinition } from '../records/definition.js';

/**
 * What the routes' zod schemas cannot say, added to the generated document in one pass so that every
 * operation declares every header and status the service really sends: the headers set by the app and
 * its plugins (request id, rate limit, CORS, caching, ETag, Location, Retry-After), the statuses any
 * route can answer (429, 431, 500, 503; 413 and 415 where there is a body), and request examples.
 * Driven by the registered collections: a new collection is covered when the document is regenerated.
 */

type Json = Record<string, unknown>;
interface Operation extends Json {
  operationId?: string;
  parameters?: Json[];
  requestBody?: { content?: Record<string, Json> };
  responses: Record<string, Json & { headers?: Record<string, unknown>; content?: Record<string, { schema?: Json }> }>;
}
export interface OpenApiDocument extends Json {
  paths: Record<string, Record<string, Operation>>;
  components: Json & { schemas: Record<string, Json>; headers?: Record<string, Json> };
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);
const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });
const PROBLEM = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };

/** Header components, named as the headers are (the OWASP ruleset looks for these exact names). */
const HEADERS: Record<string, Json> = {
  'X-Request-Id': {
    description: 'Id of this request in the service logs (the one sent as X-Request-Id when it was valid)',
    schema: { type: 'string', maxLength: 100, pattern: '^[A-Za-z0-9._:-]{1,100}$' },
  },
  'RateLimit-Limit': {
    description: 'Requests allowed per window to this client (client_id, else sub; the peer address without a token)',
    schema: { type: 'integer', format: 'int32', minimum: 1, maximum: 2147483647 },
  },
  'RateLimit-Remaining': {
    description: 'Requests left in the current window',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 2147483647 },
  },
  'RateLimit-Reset': {
    description: 'Seconds until the window resets',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 86400 },
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying',
    schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 86400 },
  },
  'Access-Control-Allow-Origin': {
    description: 'Only when CORS_ORIGINS is configured and the request’s Origin is one of them (CORS is off by default)',
    schema: { type: 'string', format: 'uri', maxLength: 2048 },
  },
  'Cache-Control': {
    description: '`no-store`: responses may carry personal data and are never cached',
    schema: { type: 'string', enum: ['no-store'] },
  },
  ETag: {
    description: 'Strong entity tag of the record version, e.g. "3"; send it back as If-Match or If-None-Match',
    schema: { type: 'string', maxLength: 20, pattern: '^"[0-9]{1,15}"$' },
  },
  Location: {
    description: 'Path of the created record',
    schema: { type: 'string', format: 'uri-reference', maxLength: 300 },
  },
  'WWW-Authenticate': {
    description: 'Bearer challenge (RFC 6750), with error="insufficient_scope" and the scope on 403',
    schema: { type: 'string', maxLength: 300 },
  },
};

/** Response header names as this document spells them (case-insensitive in HTTP). */
const CANONICAL = new Map(Object.keys(HEADERS).map((name) => [name.toLowerCase(), name]));

function problem(description: string, extraHeaders: string[] = []) {
  return { description, headers: Object.fromEntries(extraHeaders.map((h) => [h, ref(h)])), content: PROBLEM };
}

/** Statuses every operation can answer, whatever its route declares. */
const ALWAYS: Record<string, () => Json> = {
  '429': () =>
    problem('Too many requests from this client in the current window (rate_limited); retry after Retry-After seconds', ['Retry-After']),
  '431': () => problem('Request header fields too large (request_header_fields_too_large)'),
  '500': () => problem('Unexpected error (internal_error); it is logged with the request id, never with a stack trace in the body'),
  '503': () =>
    problem('Database unavailable or too slow (service_unavailable, query_timeout, retry); retry after Retry-After seconds', ['Retry-After']),
};

const WITH_BODY: Record<string, () => Json> = {
  '413': () => problem('The body is larger than this route accepts (payload_too_large)'),
  '415': () => problem('The body is not application/json (or application/merge-patch+json for PATCH) (unsupported_media_type)'),
};

/** Query parameters keep no example: Swagger UI's "Try it out" would send it as a filter. */
function withoutExamples(value: unknown, components: Record<string, Json>, depth = 0): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutExamples(v, components, depth));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Json;
  const target = typeof object['$ref'] === 'string' ? /^#\/components\/schemas\/(.+)$/.exec(object['$ref']) : null;
  if (target?.[1] && depth < 5) {
    const resolved = components[target[1]];
    if (resolved && ('example' in resolved || 'examples' in resolved)) return withoutExamples(resolved, components, depth + 1);
  }
  return Object.fromEntries(
    Object.entries(object)
      .filter(([key]) => key !== 'example' && key !== 'examples')
      .map(([key, child]) => [key, withoutExamples(child, components, depth)]),
  );
}

function schemaRef(response: Operation['responses'][string]): string | undefined {
  const schema = response.content?.['application/json']?.schema;
  return typeof schema?.['$ref'] === 'string' ? schema['$ref'] : undefined;
}

export type Verb = 'create' | 'list' | 'get' | 'replace' | 'patch' | 'delete' | 'upsert' | 'getByExternalId' | 'deleteByExternalId';

/** What an operation does to which collection, from the operationIds the record routes derive from its names. */
export function roleOf(operationId: string, collections: readonly CollectionDefinition[]): { def: CollectionDefinition; verb: Verb } | undefined {
  for (const def of collections) {
    const s = def.singular;
    const verbs: Record<string, Verb> = {
      [`create${s}`]: 'create',
      [`list${def.plural}`]: 'list',
      [`get${s}`]: 'get',
      [`replace${s}`]: 'replace',
      [`patch${s}`]: 'patch',
      [`delete${s}`]: 'delete',
      [`upsert${s}ByExternalId`]: 'upsert',
      [`get${s}ByExternalId`]: 'getByExternalId',
      [`delete${s}ByExternalId`]: 'deleteByExternalId',
    };
    const verb = verbs[operationId];
    if (verb) return { def, verb };
  }
  return undefined;
}

export function completeContract(document: OpenApiDocument, collections: readonly CollectionDefinition[]): OpenApiDocument {
  const recordRefs = new Set(collections.map((c) => `#/components/schemas/${c.singular}`));
  const examples = collectionExamples();

  for (const item of Object.values(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const responses = operation.responses;
      for (const [status, make] of Object.entries(ALWAYS)) responses[status] ??= make();
      // Any route may be refused at capacity (src/http/admission.ts, the pool's queue): say so on every 503.
      const unavailable = responses['503'];
      if (unavailable && typeof unavailable['description'] === 'string' && !unavailable['description'].includes('overloaded')) {
        unavailable['description'] += '; or the service is at capacity (overloaded), answered at once';
      }
      if (operation.requestBody) for (const [status, make] of Object.entries(WITH_BODY)) responses[status] ??= make();

      for (const [status, response] of Object.entries(responses)) {
        const headers: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(response.headers ?? {})) {
          const canonical = CANONICAL.get(name.toLowerCase());
          headers[canonical ?? name] = canonical ? ref(canonical) : value;
        }
        headers['X-Request-Id'] = ref('X-Request-Id');
        headers['Cache-Control'] = ref('Cache-Control');
        headers['Access-Control-Allow-Origin'] = ref('Access-Control-Allow-Origin');
        headers['RateLimit-Limit'] = ref('RateLimit-Limit');
        headers['RateLimit-Remaining'] = ref('RateLimit-Remaining');
        headers['RateLimit-Reset'] = ref('RateLimit-Reset');
        const isRecord = recordRefs.has(schemaRef(response) ?? '');
        if (isRecord || (status === '304' && operation.operationId?.startsWith('get'))) headers['ETag'] = ref('ETag');
        if (status === '201') headers['Location'] = ref('Location');
        if (status === '503' || status === '429') headers['Retry-After'] = ref('Retry-After');
        response.headers = Object.fromEntries(Object.entries(headers).sort(([a], [b]) => a.localeCompare(b)));
      }
      operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));

      operation.parameters = operation.parameters?.map((parameter) =>
        // Optional filters carry no example (Swagger UI's "Try it out" would send it); required ones keep theirs.
        parameter['in'] === 'query' && !parameter['required'] ? (withoutExamples(parameter, document.components.schemas) as Json) : parameter,
      );

      // Request examples: each collection's realistic records (the first by its key, a second by POST), and a batch.
      const role = roleOf(operation.operationId ?? '', collections);
      const example = role ? examples.get(role.def.name) : undefined;
      if (example && role) {
        const body =
          role.verb === 'create' ? example.create
          : role.verb === 'replace' ? { ...example.key, ...example.upsert }
          : role.verb === 'upsert' ? example.upsert
          : role.verb === 'patch' ? example.patch
          : undefined;
        for (const media of Object.values(operation.requestBody?.content ?? {})) if (body) media['example'] = body;
        // The key in the path: the first record's, except for the delete, which removes the POSTed one.
        const key = role.verb === 'deleteByExternalId' ? { regionCode: example.create.regionCode, externalId: example.create.externalId } : example.key;
        for (const parameter of operation.parameters ?? []) {
          const name = parameter['name'];
          if (parameter['in'] === 'path' && (name === 'regionCode' || name === 'externalId')) parameter['example'] = key[name];
        }
      }
      if (operation.operationId === 'runBatch') {
        for (const media of Object.values(operation.requestBody?.content ?? {})) media['example'] = EXAMPLE_BATCH;
      }
    }
  }
  // Who the servers are for (OWASP API9): the one server is this service, reached by its own clients.
  document['servers'] = ((document['servers'] as Json[] | undefined) ?? []).map((server) => ({ ...server, 'x-internal': false }));
  document.components.headers = { ...(document.components.headers ?? {}), ...HEADERS };
  return document;
}

