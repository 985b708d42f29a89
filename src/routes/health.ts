import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import { isMigrated } from '../db/migrate.js';
import { serviceUnavailable } from '../errors.js';
import { problemResponse } from '../records/schemas.js';

const Status = z.object({ status: z.string() }).meta({ id: 'HealthStatus' });

export const healthRoutes: FastifyPluginAsyncZod<{ database: Database }> = async (app, { database }) => {
  let migrated = false;

  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'getHealth',
        summary: 'Liveness: the process answers',
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
        tags: ['operations'],
        response: { 200: Status, 503: problemResponse('Database unreachable or not migrated') },
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
