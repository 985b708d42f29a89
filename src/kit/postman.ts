/**
 * A Postman collection (v2.1) generated from the OpenAPI document: bearer auth set once on the collection,
 * `baseUrl` and `token` variables, one folder per tag, and each collection's requests in an order that runs
 * as it stands (Postman's Runner, newman): upsert the first record by its key and capture its id, read,
 * list, replace and patch it, create a second record with POST, delete that one by id, and delete one by
 * key (re-created first, so the run can be repeated). Bodies are the document's examples, which a test
 * validates against the schemas; every request checks that it got one of its declared success statuses.
 */

import { collectionExamples } from '../collections/examples.js';

export const POSTMAN_FILE = 'postman/officer-registry.postman_collection.json';

type Json = Record<string, unknown>;
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  example?: unknown;
  schema?: { example?: unknown };
}
interface Operation {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Json[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<string, unknown>;
}
interface Document {
  info: { title: string; version: string; description?: string };
  servers?: { url: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

/** Order of a collection's requests in its folder; see the module comment. */
const ORDER = [
  /^upsert\w+ByExternalId$/,
  /^get\w+ByExternalId$/,
  /^list/,
  /^get/,
  /^replace/,
  /^patch/,
  /^create/,
  /^delete(?!\w*ByExternalId$)/,
  /^delete\w+ByExternalId$/,
];
const rank = (operationId: string) => {
  const i = ORDER.findIndex((pattern) => pattern.test(operationId));
  return i === -1 ? ORDER.length : i;
};

/** `org-units` → `orgUnits`: the prefix of a collection's id variables. */
const camel = (tag: string) => tag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function script(listen: 'test' | 'prerequest', lines: string[]) {
  return { listen, script: { type: 'text/javascript', exec: lines } };
}

function requestItem(path: string, method: string, op: Operation, byPath: Map<string, Record<string, Operation>>) {
  const tag = op.tags?.[0] ?? 'default';
  const variable = camel(tag);
  const isCollectionFolder = /ByExternalId$/.test(op.operationId) || byPath.has(`/v1/${tag}/external/{regionCode}/{externalId}`);
  const deletesCreated = /^delete/.test(op.operationId) && !/ByExternalId$/.test(op.operationId);

  const segments = path
    .split('/')
    .filter(Boolean)
    .map((segment) => {
      const name = /^\{(.+)\}$/.exec(segment)?.[1];
      if (!name) return segment;
      if (name === 'id') return `{{${variable}${deletesCreated ? 'CreatedId' : 'Id'}}}`;
      const parameter = op.parameters?.find((p) => p.in === 'path' && p.name === name);
      return parameter?.example === undefined ? `{{${name}}}` : String(parameter.example);
    });
  const query = (op.parameters ?? [])
    .filter((p) => p.in === 'query')
    .map((p) => {
      // A required parameter is sent with its example; the optional filters are listed, switched off.
      const example = p.example ?? p.schema?.example;
      const value = p.required && example !== undefined ? { value: String(example) } : { value: '', disabled: true };
      return { key: p.name, ...value, ...(p.description ? { description: p.description } : {}) };
    });

  const [mediaType, media] = Object.entries(op.requestBody?.content ?? {})[0] ?? [];
  const body =
    media?.example === undefined
      ? undefined
      : { mode: 'raw', raw: JSON.stringify(media.example, null, 2), options: { raw: { language: 'json' } } };

  const expected = Object.keys(op.responses)
    .filter((status) => /^2\d\d$/.test(status))
    .map(Number);
  const tests = [`pm.test('answers ${expected.join(' or ')}', function () {`, `  pm.expect(pm.response.code).to.be.oneOf(${JSON.stringify(expected)});`, '});'];
  if (isCollectionFolder && /^upsert\w+ByExternalId$/.test(op.operationId)) {
    tests.push(`if (pm.response.code < 300) pm.collectionVariables.set('${variable}Id', pm.response.json().id);`);
  }
  if (isCollectionFolder && /^create/.test(op.operationId)) {
    tests.push(`if (pm.response.code < 300) pm.collectionVariables.set('${variable}CreatedId', pm.response.json().id);`);
  }
  const events = [script('test', tests)];

  // Records the collection's examples need from other collections, upserted by key before its first request.
  const prerequisites = /^upsert\w+ByExternalId$/.test(op.operationId) ? (collectionExamples().get(tag)?.prerequisites ?? []) : [];
  if (prerequisites.length > 0) {
    // Chained, so each exists before the next refers to it.
    const chain = prerequisites.reduceRight(
      (next, { collection, key, body }) => [
        `pm.sendRequest({`,
        `  url: pm.collectionVariables.get('baseUrl') + '/v1/${collection}/external/${key.regionCode}/${key.externalId}',`,
        `  method: 'PUT',`,
        `  header: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + pm.collectionVariables.get('token') },`,
        `  body: { mode: 'raw', raw: ${JSON.stringify(JSON.stringify(body))} }`,
        `}, function (err, res) {`,
        `  if (err || res.code >= 300) throw new Error('could not upsert ${collection} ${key.externalId}: ' + (err || res.code));`,
        ...next.map((line) => `  ${line}`),
        `});`,
      ],
      [] as string[],
    );
    events.unshift(script('prerequest', chain));
  }

  // Deleting by key removes the POSTed record, which was deleted by id just before: put it back first.
  if (/^delete\w+ByExternalId$/.test(op.operationId)) {
    const create = byPath.get(`/v1/${tag}`)?.['post'];
    const example = create?.requestBody?.content['application/json']?.example as Json | undefined;
    if (example) {
      const { regionCode: _region, externalId: _key, ...data } = example;
      events.unshift(
        script('prerequest', [
          `pm.sendRequest({`,
          `  url: pm.collectionVariables.get('baseUrl') + '/${segments.join('/')}',`,
          `  method: 'PUT',`,
          `  header: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + pm.collectionVariables.get('token') },`,
          `  body: { mode: 'raw', raw: ${JSON.stringify(JSON.stringify(data))} }`,
          `}, function (err, res) { if (err || res.code >= 300) throw new Error('could not re-create the record to delete: ' + (err || res.code)); });`,
        ]),
      );
    }
  }

  const isPublic = !op.security || op.security.some((requirement) => Object.keys(requirement).length === 0);
  return {
    name: op.summary ?? op.operationId,
    event: events,
    request: {
      method: method.toUpperCase(),
      ...(isPublic ? { auth: { type: 'noauth' } } : {}),
      header: mediaType ? [{ key: 'Content-Type', value: mediaType }] : [],
      ...(body ? { body } : {}),
      url: {
        raw: `{{baseUrl}}/${segments.join('/')}`,
        host: ['{{baseUrl}}'],
        path: segments,
        ...(query.length ? { query } : {}),
      },
      description: [op.description, `operationId: \`${op.operationId}\``].filter(Boolean).join('\n\n'),
    },
  };
}

export function generatePostmanCollection(input: object) {
  const document = input as Document;
  const byPath = new Map(Object.entries(document.paths));
  const folders = new Map<string, { path: string; method: string; op: Operation }[]>();
  for (const tag of document.tags ?? []) folders.set(tag.name, []);
  for (const [path, item] of byPath) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? 'default';
      if (!folders.has(tag)) folders.set(tag, []);
      folders.get(tag)!.push({ path, method, op });
    }
  }
  const variables = [...folders.keys()]
    .filter((tag) => byPath.has(`/v1/${tag}/external/{regionCode}/{externalId}`))
    .flatMap((tag) => [`${camel(tag)}Id`, `${camel(tag)}CreatedId`]);
  return {
    info: {
      name: `${document.info.title} ${document.info.version}`,
      description: `${document.info.description ?? ''}\n\nGenerated from openapi/openapi.json by \`npm run postman\`. Set the \`token\` variable (\`npm run -s token -- --region 410100 --scope "records:read records:write audit:read"\`) and \`baseUrl\`.`,
      schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
    },
    auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{token}}', type: 'string' }] },
    variable: [
      { key: 'baseUrl', value: document.servers?.[0]?.url ?? 'http://127.0.0.1:3000', type: 'string' },
      { key: 'token', value: '', type: 'string' },
      ...variables.map((key) => ({ key, value: '', type: 'string' })),
    ],
    item: [...folders.entries()]
      .filter(([, ops]) => ops.length > 0)
      .map(([tag, ops]) => ({
        name: tag,
        description: document.tags?.find((t) => t.name === tag)?.description ?? '',
        item: [...ops]
          .sort((a, b) => (byPath.has(`/v1/${tag}/external/{regionCode}/{externalId}`) ? rank(a.op.operationId) - rank(b.op.operationId) : 0))
          .map(({ path, method, op }) => requestItem(path, method, op, byPath)),
      })),
  };
}

export function serializePostmanCollection(collection: object): string {
  return `${JSON.stringify(collection, null, 2)}\n`;
}
