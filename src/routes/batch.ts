import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import { AppError, isConnectionError, isRetryable, isTimeout, rootDbError, validationFailed } from '../errors.js';
import { problemBody, toAppError } from '../plugins/problem.js';
import { buildCollectionSchemas } from '../records/api-schemas.js';
import type { RecordEngine, UpsertItem, WriteOutcome } from '../records/engine.js';
import { tooManyIdentityProbes } from '../records/identity-throttle.js';
import { commonProblems, ExternalId, identityProbesResponse, Problem, problemResponse, RegionCode } from '../records/schemas.js';
import { runWrite, type WriteScope } from '../records/write-scope.js';
import { targetsOf } from '../records/store.js';

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

const BatchResponse = z.object({ results: z.array(BatchResult).max(MAX_BATCH_OPERATIONS) }).meta({ id: 'BatchResponse' });

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

  type Result = { index: number; status: number; id?: string; version?: number; error?: ReturnType<typeof problemBody>; retryAfter?: string };

  /**
   * Errors that end the whole transaction rather than one operation: a lost connection; a deadlock or
   * serialization failure — the transaction was chosen to give way, and `runWrite` runs it again; and a
   * statement or lock timeout — replaying the run operation by operation would wait the timeout out again
   * for each (a batch of 1000 on rows held elsewhere, hours), so the batch answers 503 with Retry-After.
   */
  const endsTransaction = (err: unknown) => {
    const root = rootDbError(err);
    return isConnectionError(root) || isRetryable(root) || isTimeout(root);
  };

  /**
   * Splits the operations into runs that can be written together: consecutive upserts of one
   * collection with distinct keys, where no operation refers to a record created earlier in the same run.
   * A delete runs alone. Runs keep the request's order.
   */
  function plan(operations: Operation[]): number[][] {
    const runs: number[][] = [];
    let current: { collection: string; keys: Set<string>; indexes: number[] } | undefined;
    for (const [index, operation] of operations.entries()) {
      const key = `${operation.regionCode}/${operation.externalId}`;
      if (operation.op === 'delete') {
        current = undefined;
        runs.push([index]);
        continue;
      }
      const fits =
        current &&
        current.collection === operation.collection &&
        !current.keys.has(key) &&
        !refersInto(operation, current.collection, current.keys);
      if (!fits || !current) {
        current = { collection: operation.collection, keys: new Set(), indexes: [] };
        runs.push(current.indexes);
      }
      current.keys.add(key);
      current.indexes.push(index);
    }
    return runs;
  }

  function refersInto(operation: Operation, collection: string, keys: Set<string>): boolean {
    const def = engine.definition(operation.collection);
    for (const ref of def.refs ?? []) {
      if (!targetsOf(ref).includes(collection)) continue;
      const value = operation.data?.[ref.externalField];
      for (const key of Array.isArray(value) ? value : [value]) {
        if (typeof key === 'string' && keys.has(`${operation.regionCode}/${key}`)) return true;
      }
    }
    return false;
  }

  function failure(index: number, err: unknown, requestId: string): Result {
    const error = underOperation(toAppError(err), index);
    const retryAfter = error.headers?.['retry-after'];
    return { index, status: error.status, error: problemBody(error, requestId), ...(retryAfter ? { retryAfter } : {}) };
  }

  /**
   * Runs one run of operations. Validation, rule and reference failures belong to their operation; a
   * database error inside the bulk write (e.g. a unique key taken by a concurrent writer) undoes the run's
   * savepoint and replays it operation by operation, so the failure lands on the operation that caused it.
   */
  async function runRun(scope: WriteScope, operations: Operation[], indexes: number[], atomic: boolean): Promise<Result[]> {
    const requestId = scope.call.requestId;
    const first = operations[indexes[0]!]!;
    const def = engine.definition(first.collection);
    const ifMatchOf = (operation: Operation) => (operation.ifMatch === undefined ? undefined : [operation.ifMatch]);

    if (first.op === 'delete') {
      const one = async () => {
        const row = await engine.remove(scope, def, first, ifMatchOf(first));
        return [{ index: indexes[0]!, status: 204, id: row.id, version: row.version }];
      };
      try {
        // Atomic: the failure ends the whole transaction anyway, so no savepoint is needed.
        return await (atomic ? one() : scope.savepoint(one));
      } catch (err) {
        if (endsTransaction(err) || (atomic && !(err instanceof AppError))) throw err;
        return [failure(indexes[0]!, err, requestId)];
      }
    }

    const results = new Map<number, Result>();
    const items: { index: number; item: UpsertItem }[] = [];
    const schema = upsertSchemas.get(def.name)!;
    for (const index of indexes) {
      const operation = operations[index]!;
      try {
        if (!operation.data) throw validationFailed([{ path: '/', message: 'an upsert needs data', in: 'body' }]);
        const data = engine.parseBody(schema, operation.data);
        items.push({
          index,
          item: { regionCode: operation.regionCode, externalId: operation.externalId, data, ifMatch: ifMatchOf(operation), position: index },
        });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        results.set(index, failure(index, err, requestId));
      }
    }
    const record = (index: number, outcome: WriteOutcome | AppError) =>
      results.set(index, outcome instanceof AppError ? failure(index, outcome, requestId) : { index, status: outcome.status, id: outcome.row.id, version: outcome.row.version });
    try {
      const outcomes = await scope.savepoint(() => engine.upsertMany(scope, def, items.map((i) => i.item)));
      items.forEach(({ index }, i) => record(index, outcomes[i]!));
    } catch (err) {
      if (endsTransaction(err)) throw err;
      for (const { index, item } of items) {
        try {
          record(index, await scope.savepoint(() => engine.upsert(scope, def, item)));
        } catch (one) {
          if (endsTransaction(one)) throw one;
          results.set(index, failure(index, one, requestId));
          if (atomic) break;
        }
      }
    }
    return indexes.flatMap((index) => results.get(index) ?? []);
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
          'Operations run in order, so a record may reference one created earlier in the same batch by externalId. Non-atomic: each operation stands alone and gets its own result. Atomic: all or nothing — on the first failure nothing is written and the answer is 422 batch_rolled_back naming the failed operation. Writes setting an ID number (a new person, a changed number) spend the client\'s identity budgets: past them such an operation answers 429 too_many_identity_probes in its place without being evaluated (an atomic batch answers 429 as a whole).',
        tags: ['sync'],
        body: BatchRequest,
        response: {
          200: BatchResponse,
          ...commonProblems,
          413: problemResponse('Body over the size limit'),
          422: problemResponse('Atomic batch rolled back (batch_rolled_back)'),
          429: identityProbesResponse,
        },
      },
    },
    async (request) => {
      const { atomic, operations } = request.body;
      const runs = plan(operations);
      if (!atomic) {
        const results = await runWrite(database, request.call, async (scope) => {
          const out: Result[] = [];
          for (const run of runs) out.push(...(await runRun(scope, operations, run, false)));
          return out;
        });
        for (const r of results) if (r.error && r.status >= 500) request.log.error({ index: r.index, error: r.error }, 'batch operation failed');
        return { results };
      }
      let failed: Result | undefined;
      try {
        const results = await runWrite(database, request.call, async (scope) => {
          failed = undefined;
          const out: Result[] = [];
          for (const run of runs) {
            const part = await runRun(scope, operations, run, true);
            failed = part.find((r) => r.error);
            if (failed) {
              // The answer names this operation: it tells nothing of the ones after it, which cost nothing.
              scope.concealIdentitiesAfter(failed.index);
              // Undo everything: the transaction rolls back on the way out.
              throw new AppError(422, 'batch_rolled_back', 'Batch rolled back');
            }
            out.push(...part);
          }
          return out;
        });
        return { results };
      } catch (err) {
        if (!failed?.error) throw err;
        const problem = failed.error;
        if (failed.status >= 500) {
          throw new AppError(failed.status, problem.code, problem.title, {
            detail: problem.detail,
            ...(failed.retryAfter ? { headers: { 'retry-after': failed.retryAfter } } : {}),
          });
        }
        if (problem.code === 'too_many_identity_probes') {
          const throttle = request.call.identityThrottle;
          throw tooManyIdentityProbes(Math.max(1, throttle?.retryAfter(request.call.principal) ?? 1), throttle);
        }
        throw new AppError(422, 'batch_rolled_back', 'Batch rolled back', {
          detail: `Operation ${failed.index} failed (${problem.code}): ${problem.detail ?? problem.title} Nothing was written.`,
          errors: problem.errors,
          extensions: { failedIndex: failed.index, failure: problem },
        });
      }
    },
  );
};
