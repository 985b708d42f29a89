import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import { AppError, isConnectionError, rootDbError, validationFailed } from '../errors.js';
import { problemBody, toAppError } from '../plugins/problem.js';
import { buildCollectionSchemas } from '../records/api-schemas.js';
import type { RecordEngine } from '../records/engine.js';
import { commonProblems, ExternalId, Problem, problemResponse, RegionCode } from '../records/schemas.js';
import { runWrite, type WriteScope } from '../records/write-scope.js';

export const MAX_BATCH_OPERATIONS = 1000;

const BatchResult = z
  .object({
    index: z.number().int().describe('Position of the operation in the request'),
    status: z.number().int().describe('HTTP status the operation would have had on its own: 201, 200, 204 or an error'),
    id: z.uuid().optional(),
    version: z.number().int().optional(),
    error: Problem.optional(),
  })
  .meta({ id: 'BatchResult' });

const BatchResponse = z.object({ results: z.array(BatchResult) }).meta({ id: 'BatchResponse' });

interface Operation {
  op: 'upsert' | 'delete';
  collection: string;
  regionCode: string;
  externalId: string;
  ifMatch?: number | undefined;
  data?: Record<string, unknown> | undefined;
}

/** Problem paths of one operation's record point into the request: `/operations/{i}/data/...`. */
function underOperation(error: AppError, index: number): AppError {
  if (!error.errors) return error;
  return new AppError(error.status, error.code, error.title, {
    detail: error.detail,
    errors: error.errors.map((e) => ({ ...e, path: e.in === 'body' ? `/operations/${index}/data${e.path === '/' ? '' : e.path}` : e.path })),
    headers: error.headers,
    extensions: error.extensions,
    cause: error.cause,
  });
}

export const batchRoutes: FastifyPluginAsyncZod<{ database: Database; engine: RecordEngine; bodyLimit: number }> = async (
  app,
  { database, engine, bodyLimit },
) => {
  const names = [...engine.registry.keys()] as [string, ...string[]];
  const upsertSchemas = new Map([...engine.registry.values()].map((def) => [def.name, buildCollectionSchemas(def).upsertBody]));

  const BatchRequest = z
    .object({
      atomic: z.boolean().default(false).describe('true: all operations or none; false: each stands alone'),
      operations: z
        .array(
          z.object({
            op: z.enum(['upsert', 'delete']),
            collection: z.enum(names),
            regionCode: RegionCode,
            externalId: ExternalId,
            ifMatch: z.number().int().min(1).optional().describe('Expected current version; 412 when it differs'),
            data: z
              .record(z.string(), z.unknown())
              .optional()
              .describe("For upsert: the record, as in the collection's PUT …/external/{regionCode}/{externalId} body"),
          }),
        )
        .min(1)
        .max(MAX_BATCH_OPERATIONS),
    })
    .meta({ id: 'BatchRequest' });

  async function runOperation(scope: WriteScope, operation: Operation, index: number) {
    const def = engine.definition(operation.collection);
    const ifMatch = operation.ifMatch === undefined ? undefined : [operation.ifMatch];
    if (operation.op === 'delete') {
      const row = await engine.remove(scope, def, operation, ifMatch);
      return { index, status: 204, id: row.id, version: row.version };
    }
    if (!operation.data) throw validationFailed([{ path: '/', message: 'an upsert needs data', in: 'body' }]);
    const schema = upsertSchemas.get(def.name);
    if (!schema) throw new Error(`no schema for ${def.name}`);
    const data = engine.parseBody(schema, operation.data);
    const outcome = await engine.upsert(scope, def, operation.regionCode, operation.externalId, data, ifMatch);
    return { index, status: outcome.status, id: outcome.row.id, version: outcome.row.version };
  }

  app.post(
    '/v1/batch',
    {
      bodyLimit,
      config: { scope: 'records:write' },
      schema: {
        operationId: 'runBatch',
        summary: `Upsert and delete up to ${MAX_BATCH_OPERATIONS} records of any collections by the caller's keys`,
        description:
          'Operations run in order, so a record may reference one created earlier in the same batch by externalId. Non-atomic: each operation stands alone and gets its own result. Atomic: all or nothing — on the first failure nothing is written and the answer is 422 batch_rolled_back naming the failed operation.',
        tags: ['sync'],
        body: BatchRequest,
        response: {
          200: BatchResponse,
          ...commonProblems,
          413: problemResponse('Body over the size limit'),
          422: problemResponse('Atomic batch rolled back (batch_rolled_back)'),
        },
      },
    },
    async (request) => {
      const { atomic, operations } = request.body;
      if (atomic) {
        let failed: { index: number; error: AppError } | undefined;
        try {
          const results = await runWrite(database, request.call, async (scope) => {
            const out = [];
            for (const [index, operation] of operations.entries()) {
              try {
                out.push(await runOperation(scope, operation, index));
              } catch (err) {
                failed = { index, error: toAppError(err) };
                throw err;
              }
            }
            return out;
          });
          return { results };
        } catch (err) {
          if (!failed || failed.error.status >= 500) throw err;
          const failure = underOperation(failed.error, failed.index);
          throw new AppError(422, 'batch_rolled_back', 'Batch rolled back', {
            detail: `Operation ${failed.index} failed (${failure.code}): ${failure.detail ?? failure.title} Nothing was written.`,
            errors: failure.errors,
            extensions: { failedIndex: failed.index, failure: problemBody(failure, request.id) },
          });
        }
      }

      const results = await runWrite(database, request.call, async (scope) => {
        const out = [];
        for (const [index, operation] of operations.entries()) {
          try {
            out.push(await scope.savepoint(() => runOperation(scope, operation, index)));
          } catch (err) {
            // A lost connection ends the whole batch; anything else belongs to this operation alone.
            if (isConnectionError(rootDbError(err))) throw err;
            const error = underOperation(toAppError(err), index);
            if (error.status >= 500) request.log.error({ err, index }, 'batch operation failed');
            out.push({ index, status: error.status, error: problemBody(error, request.id) });
          }
        }
        return out;
      });
      return { results };
    },
  );
};
