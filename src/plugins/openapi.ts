import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { CollectionDefinition } from '../records/definition.js';

export interface OpenApiOptions {
  version: string;
  collections: readonly CollectionDefinition[];
}

/** OpenAPI 3.1 generated from the routes' zod schemas; served at /openapi.json with Swagger UI at /docs. */
export const openApiPlugin = fp(
  async (app: FastifyInstance, options: OpenApiOptions) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Officer Registry',
          version: options.version,
          description:
            'Records of city-management law-enforcement personnel 城市管理执法人员管理信息子系统: officers, credentials, cases, post status, equipment, assistants and training, synced by each city platform. Errors are RFC 9457 problems with a stable `code`.',
          contact: { name: 'Officer Registry maintainers' },
          license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
        },
        servers: [{ url: '/', description: 'This service' }],
        tags: [
          ...options.collections.map((c) => ({ name: c.tag, description: c.description })),
          { name: 'sync', description: 'Batch upserts and the change feed 数据同步' },
          { name: 'audit', description: 'Audit log 审计日志' },
          { name: 'operations', description: 'Health and readiness 运行状态' },
        ],
        components: {
          securitySchemes: {
            bearerAuth: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT',
              description: 'Access token with `scope` (space-separated) and `region` (GB/T 2260) claims',
            },
          },
        },
      },
      transform: (input) => {
        const transformed = jsonSchemaTransform(input);
        const scope = input.route.config?.scope;
        // Protected routes say so, with the scope they need.
        if (scope && transformed.schema && !transformed.schema.hide) {
          transformed.schema = { ...transformed.schema, security: [{ bearerAuth: [scope] }] };
        }
        return transformed;
      },
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'openapi', dependencies: ['problem'] },
);
