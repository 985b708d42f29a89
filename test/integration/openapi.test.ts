import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateOpenApiDocument, serializeOpenApiDocument } from '../../src/openapi-document.js';
import { openApiPlugin } from '../../src/plugins/openapi.js';
import { problemPlugin } from '../../src/plugins/problem.js';
import { SCOPES } from '../../src/security/tokens.js';
import { useTestApp } from '../support/context.js';

const COMMITTED = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url));
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

interface Operation {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  'x-required-scope'?: string;
  parameters?: { in: string; name: string; schema?: unknown }[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }>; headers?: Record<string, unknown> }>;
}
interface Document {
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown>; headers?: Record<string, unknown> };
}

function operations(doc: Document) {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) => (item[method] ? [{ path, method, op: item[method] }] : [])),
  );
}

function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, found));
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') found.push(child);
      else refsIn(child, found);
    }
  }
  return found;
}

describe('OpenAPI document (openapi/openapi.json)', () => {
  let fresh: Document;
  beforeAll(async () => {
    fresh = (await generateOpenApiDocument()) as Document;
  });

  it('is committed and up to date with the routes', async () => {
    const committed = await readFile(COMMITTED, 'utf8').catch(() => '');
    // Compared as text: formatting is part of what `npm run openapi` writes.
    expect(committed === serializeOpenApiDocument(fresh), 'openapi/openapi.json is stale: run npm run openapi').toBe(true);
  });

  it('gives every operation a unique operationId and at least one tag', () => {
    const ops = operations(fresh);
    expect(ops.length).toBeGreaterThan(10);
    const ids = ops.map(({ op }) => op.operationId);
    for (const { path, method, op } of ops) {
      expect(op.operationId, `${method.toUpperCase()} ${path} has no operationId`).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(op.tags?.length, `${method.toUpperCase()} ${path} has no tags`).toBeGreaterThan(0);
    }
    const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(duplicates).toEqual([]);
  });

  it('resolves every $ref to a component', () => {
    const refs = new Set(refsIn(fresh));
    for (const ref of refs) {
      const [, section, name] = /^#\/components\/(schemas|headers)\/([A-Za-z0-9._-]+)$/.exec(ref) ?? [];
      expect(section, `${ref} points at schemas or headers`).toBeDefined();
      expect(fresh.components[section as 'schemas' | 'headers'], `${ref} is dangling`).toHaveProperty([name!]);
    }
  });

  it('has the Problem component, and every error response is application/problem+json referencing it', () => {
    expect(fresh.components.schemas).toHaveProperty('Problem');
    let errors = 0;
    for (const { path, method, op } of operations(fresh)) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (!/^[45]\d\d$/.test(status)) continue;
        errors++;
        const where = `${method.toUpperCase()} ${path} ${status}`;
        expect(Object.keys(response.content ?? {}), where).toEqual(['application/problem+json']);
        expect(response.content?.['application/problem+json']?.schema?.$ref, where).toBe('#/components/schemas/Problem');
        if (status === '503') expect(response.headers, `${where} declares Retry-After`).toHaveProperty('Retry-After');
      }
    }
    expect(errors).toBeGreaterThan(0);
  });

  describe('security matches what the service enforces', () => {
    const ctx = useTestApp();

    it('declares bearer security and the required scope on exactly the operations that answer 401 without a token', async () => {
      expect(fresh.components.securitySchemes).toHaveProperty('bearerAuth');
      for (const { path, method, op } of operations(fresh)) {
        // Any syntactically valid path parameters: authentication runs before anything else.
        const url = path
          .replace('{id}', '00000000-0000-4000-8000-000000000000')
          .replace('{regionCode}', '410100')
          .replace(/\{[^}]+\}/g, 'x');
        const res = await ctx.app.inject({ method: method.toUpperCase() as 'GET', url });
        const where = `${method.toUpperCase()} ${path}`;
        if (res.statusCode === 401) {
          expect(op.security, `${where} is protected but declares no security`).toEqual([{ bearerAuth: [] }]);
          expect(SCOPES, `${where} x-required-scope`).toContain(op['x-required-scope']);
        } else {
          // Public, or (discovery) a token is optional: `[{}, { bearerAuth: [] }]`.
          const optional = op.security?.some((requirement) => Object.keys(requirement).length === 0);
          expect(op.security === undefined || optional, `${where} is public (${res.statusCode}) but requires security`).toBe(true);
        }
      }
    });
  });
});

describe('OpenAPI schema transform', () => {
  it('names a schema whose request and response forms differ <id> and <id>Input, and shares one that does not', async () => {
    const Thing = z
      .object({ size: z.number().int().default(1), code: z.string().meta({ id: 'TransformTestCode' }) })
      .meta({ id: 'TransformTestThing' });
    const app = Fastify().withTypeProvider<ZodTypeProvider>();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    await app.register(problemPlugin);
    await app.register(openApiPlugin, { version: '0.0.0', collections: [], serverUrl: 'http://127.0.0.1:3000' });
    app.post(
      '/things',
      { config: { scope: 'records:write' }, schema: { operationId: 'createThing', tags: ['t'], body: Thing, response: { 200: Thing } } },
      async (request) => request.body,
    );
    await app.ready();
    const doc = app.swagger() as unknown as Document & {
      paths: { '/things': { post: { requestBody: { content: { 'application/json': { schema: { $ref: string } } } } } } };
    };
    await app.close();
    const schemas = doc.components.schemas as Record<string, { required?: string[] }>;
    expect(Object.keys(schemas).sort()).toEqual(['TransformTestCode', 'TransformTestThing', 'TransformTestThingInput']);
    // With a default, `size` is optional in a request and always present in a response.
    expect(schemas['TransformTestThingInput']?.required).toEqual(['code']);
    expect(schemas['TransformTestThing']?.required).toEqual(['size', 'code']);
    const post = doc.paths['/things'].post;
    expect(post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/TransformTestThingInput');
    expect(refsIn(doc)).toContain('#/components/schemas/TransformTestCode');
  });
});
