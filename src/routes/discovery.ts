import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config.js';
import { unauthorized } from '../errors.js';
import { buildCollectionSchemas } from '../records/api-schemas.js';
import type { CollectionDefinition } from '../records/definition.js';
import { problemResponse } from '../records/schemas.js';
import { SCOPES, type TokenVerifier } from '../security/tokens.js';
import { MAX_BATCH_OPERATIONS } from './batch.js';

/** Query parameters every list has; a collection's own filters are the rest of its list query. */
const PAGING = new Set(['limit', 'cursor']);
const VERBS = [
  { method: 'POST', path: '/v1/{collection}', scope: 'records:write' },
  { method: 'GET', path: '/v1/{collection}', scope: 'records:read' },
  { method: 'GET', path: '/v1/{collection}/{id}', scope: 'records:read' },
  { method: 'PUT', path: '/v1/{collection}/{id}', scope: 'records:write' },
  { method: 'PATCH', path: '/v1/{collection}/{id}', scope: 'records:write' },
  { method: 'DELETE', path: '/v1/{collection}/{id}', scope: 'records:write' },
  { method: 'GET', path: '/v1/{collection}/external/{regionCode}/{externalId}', scope: 'records:read' },
  { method: 'PUT', path: '/v1/{collection}/external/{regionCode}/{externalId}', scope: 'records:write' },
  { method: 'DELETE', path: '/v1/{collection}/external/{regionCode}/{externalId}', scope: 'records:write' },
] as const;

const Verb = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  path: z.string().max(200),
  scope: z.enum(SCOPES),
});

const ServiceDescription = z
  .object({
    apiVersion: z.string().max(20).describe('Version of this API (the OpenAPI document’s info.version)').meta({ example: 'v1' }),
    serviceVersion: z.string().max(20).meta({ example: '0.1.0' }),
    openapi: z.string().max(500).describe('Absolute URL of the OpenAPI document'),
    collections: z
      .array(
        z.object({
          name: z.string().max(64).meta({ example: 'officers' }),
          description: z.string().max(200),
          href: z.string().max(500).describe('Absolute URL of the collection'),
          verbs: z.array(Verb).max(20),
          filters: z.array(z.string().max(64)).max(50).describe('List query parameters besides limit and cursor'),
        }),
      )
      .max(100),
    limits: z.object({
      batchOperations: z.number().int().min(1).max(100_000).describe('Most operations in one POST /v1/batch'),
      pageSizeDefault: z.number().int().min(1).max(10_000),
      pageSizeMax: z.number().int().min(1).max(10_000),
      changeFeedPageMax: z.number().int().min(1).max(10_000),
      bodyBytes: z.number().int().min(1).max(2_147_483_647).describe('Body limit of the single-record routes'),
      batchBodyBytes: z.number().int().min(1).max(2_147_483_647).describe('Body limit of POST /v1/batch'),
    }),
    rateLimit: z.object({
      limit: z.number().int().min(1).max(2_147_483_647).describe('Requests per window and client (client_id, else sub)'),
      windowSeconds: z.number().int().min(1).max(86_400),
    }),
    scopes: z.array(z.enum(SCOPES)).max(20).describe('Every scope the API knows'),
    token: z
      .object({
        sub: z.string().max(200),
        clientId: z.string().max(200).nullable(),
        region: z.string().max(6).describe('The region the token covers (GB/T 2260)').meta({ example: '410100' }),
        scopes: z.array(z.string().max(64)).max(20),
        expiresAt: z.iso.datetime({ offset: true }),
      })
      .nullable()
      .describe('What the bearer token sent with this request may do; null without one'),
  })
  .meta({ id: 'ServiceDescription', description: 'What this API offers and what the caller’s token may do 服务说明' });

export interface DiscoveryOptions {
  collections: readonly CollectionDefinition[];
  verifier: TokenVerifier;
  version: string;
  baseUrl: string;
  config: Pick<Config, 'BODY_LIMIT_BYTES' | 'RATE_LIMIT_MAX' | 'RATE_LIMIT_WINDOW_SECONDS'>;
  bodyLimit: number;
}

/** `GET /v1`: a client can check what it may do before it syncs (after SCIM's ServiceProviderConfig). */
export const discoveryRoutes: FastifyPluginAsyncZod<DiscoveryOptions> = async (app, options) => {
  const { baseUrl } = options;
  const collections = options.collections.map((def) => ({
    name: def.name,
    description: def.description,
    href: `${baseUrl}/v1/${def.name}`,
    verbs: VERBS.map((v) => ({ ...v, path: v.path.replace('{collection}', def.name) })),
    filters: Object.keys(buildCollectionSchemas(def).listQuery.shape).filter((key) => !PAGING.has(key)),
  }));

  app.get(
    '/v1',
    {
      schema: {
        operationId: 'getServiceDescription',
        summary: 'Discovery: API version, collections, limits, scopes, rate limits and what your token may do',
        description:
          'No token needed; with `Authorization: Bearer …` the answer also names the token’s region and scopes (an invalid token answers 401).',
        tags: ['operations'],
        security: [{}, { bearerAuth: [] }],
        response: {
          200: ServiceDescription,
          401: problemResponse('The bearer token sent is invalid or expired (unauthorized)'),
        },
      },
    },
    async (request) => {
      const header = request.headers.authorization;
      let token: z.infer<typeof ServiceDescription>['token'] = null;
      if (header) {
        const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
        if (!match?.[1]) throw unauthorized('Send an access token as "Authorization: Bearer <token>".');
        const principal = await options.verifier.verify(match[1]);
        token = {
          sub: principal.sub,
          clientId: principal.clientId ?? null,
          region: principal.region,
          scopes: [...principal.scopes].sort(),
          expiresAt: new Date(principal.exp * 1000).toISOString(),
        };
      }
      return {
        apiVersion: 'v1',
        serviceVersion: options.version,
        openapi: `${baseUrl}/openapi.json`,
        collections,
        limits: {
          batchOperations: MAX_BATCH_OPERATIONS,
          pageSizeDefault: 50,
          pageSizeMax: 500,
          changeFeedPageMax: 1000,
          bodyBytes: options.bodyLimit,
          batchBodyBytes: options.config.BODY_LIMIT_BYTES,
        },
        rateLimit: { limit: options.config.RATE_LIMIT_MAX, windowSeconds: options.config.RATE_LIMIT_WINDOW_SECONDS },
        scopes: [...SCOPES],
        token,
      };
    },
  );
};
