import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import { isMigrated } from '../db/migrate.js';
import { serviceUnavailable } from '../errors.js';
import { unavailableResponse } from '../records/schemas.js';

const Status = z
  .object({ status: z.string().describe('`ok` (alive) or `ready`').meta({ example: 'ok' }) })
  .meta({ id: 'HealthStatus', description: 'Health status' });

export const healthRoutes: FastifyPluginAsyncZod<{ database: Database }> = async (app, { database }) => {
  let migrated = false;

  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'getHealth',
        summary: 'Liveness: the process answers',
        description: 'Answers 200 while the process runs; it does not touch the database. No token needed.',
        tags: ['operations'],
        response: { 200: Status },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness: the database answers and every migration is applied',
        description:
          'Answers 200 when the database answers and its schema is migrated, else 503 `service_unavailable` with `Retry-After`. For load balancers; no token needed.',
        tags: ['operations'],
        response: { 200: Status, 503: unavailableResponse('Database unreachable or not migrated (service_unavailable)') },
      },
    },
    async () => {
      try {
        await database.ping();
        // Once every migration is seen, it stays so for this build.
        migrated ||= await isMigrated(database);
      } catch (err) {
        throw serviceUnavailable('The database is unreachable.', err);
      }
      if (!migrated) throw serviceUnavailable('The database schema is not migrated yet.');
      return { status: 'ready' };
    },
  );
};
