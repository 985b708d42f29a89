import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import { notFound } from '../errors.js';
import { buildCollectionSchemas } from './api-schemas.js';
import type { CollectionDefinition, StoredRow } from './definition.js';
import type { RecordEngine, WriteOutcome } from './engine.js';
import { entityTag, parseIfMatch, parseIfNoneMatch, parseWriteIfNoneMatch } from './etag.js';
import { withoutPiiRead } from '../plugins/auth.js';
import { commonProblems, ExternalId, identityProbesResponse, problemResponse, RegionCode } from './schemas.js';
import type { Target } from './store.js';
import { runWrite } from './write-scope.js';

export interface CollectionRoutesOptions {
  definition: CollectionDefinition;
  engine: RecordEngine;
  database: Database;
}

/**
 * Sends JSON already written (records made from their kept bodies): Fastify sends a string of a JSON type as
 * it is, without the route's serializer.
 */
const sendJson = (reply: FastifyReply, json: string) => reply.type('application/json; charset=utf-8').send(json);

const IdParams = z.object({ id: z.uuid().describe('Record id (UUID)') });
const ExternalParams = z.object({
  regionCode: RegionCode,
  externalId: ExternalId,
});
const IfMatchHeaders = z.object({
  'if-match': z.string().optional().describe('Entity tag of the version being changed, e.g. "3"; 412 when stale'),
});
const WriteHeaders = IfMatchHeaders.extend({
  'if-none-match': z.string().optional().describe('"*": only when no record exists (create only); a tag: only when the record is not at that version; 412 otherwise'),
});
/** A write's If-Match and If-None-Match (etag.ts): 412 unless the record meets them, 400 when they are not entity tags. */
const preconditionsOf = (request: FastifyRequest) => ({
  ifMatch: parseIfMatch(request.headers['if-match']),
  ifNoneMatch: parseWriteIfNoneMatch(request.headers['if-none-match']),
});
const IfNoneMatchHeaders = z.object({
  'if-none-match': z.string().optional().describe('Entity tag the client holds; 304 when unchanged'),
});
const MergePatch = z
  .record(z.string(), z.unknown())
  .describe('JSON Merge Patch (RFC 7396): members replace, null removes; the result must be a valid record');

/**
 * The verbs of DESIGN §3 for one collection, registered once per collection with its definition.
 * operationIds follow the collection's names: createOrgUnit, getOrgUnit, upsertOrgUnitByExternalId, …
 */
export const collectionRoutes: FastifyPluginAsyncZod<CollectionRoutesOptions> = async (app, { definition: def, engine, database }) => {
  const schemas = buildCollectionSchemas(def);
  const base = `/v1/${def.name}`;
  const tags = [def.tag];
  const { singular, plural } = def;
  const read = { scope: 'records:read' as const };
  const write = { scope: 'records:write' as const };
  const recordNotFound = problemResponse('No such record in your regions');
  const conflict = problemResponse('A unique value is already taken (conflict), or the record is still referenced');
  const stale = problemResponse('If-Match names a version that is no longer current (version_conflict)');
  const rejected = problemResponse('A rule refused the record (rule_violation) or a reference was not found (reference_not_found)');
  // Writes setting ID numbers may be throttled (identity-throttle.ts).
  const throttled = def.pii?.some((p) => p.kind === 'id_card') ? { 429: identityProbesResponse } : {};

  async function sendRecord(request: FastifyRequest, reply: FastifyReply, row: StoredRow, status: number) {
    const [record] = await engine.present(database.db, request.call, def, [row]);
    reply.header('etag', entityTag(def, record!));
    return reply.code(status).send(record);
  }

  async function sendOutcome(request: FastifyRequest, reply: FastifyReply, outcome: WriteOutcome) {
    if (outcome.status === 201) reply.header('location', `${base}/${outcome.row.id}`);
    return sendRecord(request, reply, outcome.row, outcome.status);
  }

  app.post(
    base,
    {
      config: write,
      schema: {
        operationId: `create${singular}`,
        summary: `Create one ${def.tag} record`,
        tags,
        body: schemas.body,
        response: { 201: schemas.record, ...commonProblems, 409: conflict, 422: rejected, ...throttled },
      },
    },
    async (request, reply) => {
      const outcome = await runWrite(database, request.call, (scope) => engine.create(scope, def, request.body));
      return sendOutcome(request, reply, outcome);
    },
  );

  app.get(
    base,
    {
      config: read,
      schema: {
        operationId: `list${plural}`,
        summary: `List ${def.tag} records in your regions (keyset pagination)`,
        tags,
        querystring: schemas.listQuery,
        response: { 200: schemas.page, ...commonProblems },
      },
    },
    async (request, reply) => {
      const query = request.query as Parameters<RecordEngine['list']>[3];
      if (!request.call.principal.scopes.has('pii:read')) {
        // Most readers: the page as kept whole (record-views.ts); else put together from the kept masked
        // bodies, keeping the records whole for the next read.
        const kept = await engine.listFromViews(database.db, request.call, def, query);
        if (kept !== undefined) return sendJson(reply, kept);
        const { rows, nextCursor } = await engine.list(database.db, request.call, def, query, 'body');
        const views = await engine.presentViews(database.db, request.call, def, rows);
        return sendJson(reply, `{"items":[${views.map((v) => v.json).join(',')}],"nextCursor":${JSON.stringify(nextCursor)}}`);
      }
      const { rows, nextCursor } = await engine.list(database.db, request.call, def, query);
      return { items: await engine.present(database.db, request.call, def, rows), nextCursor };
    },
  );

  app.get(
    `${base}/:id`,
    {
      config: read,
      schema: {
        operationId: `get${singular}`,
        summary: `Read one ${def.tag} record`,
        tags,
        params: IdParams,
        headers: IfNoneMatchHeaders,
        response: { 200: schemas.record, 304: z.undefined().describe('Not modified'), ...commonProblems, 404: recordNotFound },
      },
    },
    async (request, reply) => sendRead(request, reply, { id: request.params.id }),
  );

  async function readView(request: FastifyRequest, target: Target) {
    const row = await engine.get(database.db, request.call, def, target, 'body');
    const [view] = await engine.presentViews(database.db, request.call, def, [row]);
    if (!view) throw notFound();
    return { json: view.json, etag: view.etag() };
  }

  /** A read by id or key: 304 when the client's tag is current, else the record with its tag. */
  async function sendRead(request: FastifyRequest, reply: FastifyReply, target: Target) {
    const ifNoneMatch = parseIfNoneMatch(request.headers['if-none-match']);
    if (!request.call.principal.scopes.has('pii:read')) {
      // Most readers: the record as kept whole (record-views.ts), else from its kept masked body.
      const kept = await engine.getFromView(database.db, request.call, def, target);
      const view = kept ?? (await readView(request, target));
      const tag = view.etag;
      if (ifNoneMatch !== undefined && (ifNoneMatch === '*' || ifNoneMatch.includes(tag))) return reply.code(304).header('etag', tag).send();
      return sendJson(reply.code(200).header('etag', tag), view.json);
    }
    const row = await engine.get(database.db, request.call, def, target);
    if (ifNoneMatch !== undefined) {
      // The tag needs the derived fields; render masked first, so a 304 (which shows nothing) audits no read.
      const [masked] = await engine.present(database.db, withoutPiiRead(request.call), def, [row]);
      const tag = entityTag(def, masked!);
      if (ifNoneMatch === '*' || ifNoneMatch.includes(tag)) return reply.code(304).header('etag', tag).send();
      if (!request.call.principal.scopes.has('pii:read')) return reply.code(200).header('etag', tag).send(masked);
    }
    return sendRecord(request, reply, row, 200);
  }

  app.put(
    `${base}/:id`,
    {
      config: write,
      schema: {
        operationId: `replace${singular}`,
        summary: `Replace one ${def.tag} record`,
        tags,
        params: IdParams,
        headers: WriteHeaders,
        body: schemas.body,
        response: { 200: schemas.record, ...commonProblems, 404: recordNotFound, 409: conflict, 412: stale, 422: rejected, ...throttled },
      },
    },
    async (request, reply) => {
      const { ifMatch, ifNoneMatch } = preconditionsOf(request);
      const outcome = await runWrite(database, request.call, (scope) =>
        engine.replace(scope, def, { id: request.params.id }, request.body, ifMatch, ifNoneMatch),
      );
      return sendOutcome(request, reply, outcome);
    },
  );

  app.patch(
    `${base}/:id`,
    {
      config: write,
      schema: {
        operationId: `patch${singular}`,
        summary: `Change some fields of one ${def.tag} record (JSON Merge Patch)`,
        tags,
        params: IdParams,
        headers: WriteHeaders,
        body: MergePatch,
        response: { 200: schemas.record, ...commonProblems, 404: recordNotFound, 409: conflict, 412: stale, 422: rejected, ...throttled },
      },
    },
    async (request, reply) => {
      const { ifMatch, ifNoneMatch } = preconditionsOf(request);
      const outcome = await runWrite(database, request.call, (scope) =>
        engine.patch(scope, def, { id: request.params.id }, request.body, schemas.body, ifMatch, ifNoneMatch),
      );
      return sendOutcome(request, reply, outcome);
    },
  );

  app.delete(
    `${base}/:id`,
    {
      config: write,
      schema: {
        operationId: `delete${singular}`,
        summary: `Delete one ${def.tag} record (a tombstone stays in the change feed)`,
        tags,
        params: IdParams,
        headers: WriteHeaders,
        response: { 204: z.undefined().describe('Deleted'), ...commonProblems, 404: recordNotFound, 409: conflict, 412: stale },
      },
    },
    async (request, reply) => {
      const { ifMatch, ifNoneMatch } = preconditionsOf(request);
      await runWrite(database, request.call, (scope) => engine.remove(scope, def, { id: request.params.id }, ifMatch, ifNoneMatch));
      return reply.code(204).send();
    },
  );

  const external = `${base}/external/:regionCode/:externalId`;

  app.put(
    external,
    {
      config: write,
      schema: {
        operationId: `upsert${singular}ByExternalId`,
        summary: `Create or update one ${def.tag} record by the caller's own key (idempotent)`,
        description:
          '201 when created, 200 when updated; an unchanged body answers 200 with the same version and writes nothing.',
        tags,
        params: ExternalParams,
        headers: WriteHeaders,
        body: schemas.upsertBody,
        response: {
          200: schemas.record,
          201: schemas.record,
          ...commonProblems,
          409: conflict,
          412: stale,
          422: rejected,
          ...throttled,
        },
      },
    },
    async (request, reply) => {
      const { regionCode, externalId } = request.params;
      const { ifMatch, ifNoneMatch } = preconditionsOf(request);
      const outcome = await runWrite(database, request.call, (scope) =>
        engine.upsert(scope, def, { regionCode, externalId, data: request.body, ifMatch, ifNoneMatch }),
      );
      return sendOutcome(request, reply, outcome);
    },
  );

  app.get(
    external,
    {
      config: read,
      schema: {
        operationId: `get${singular}ByExternalId`,
        summary: `Read one ${def.tag} record by the caller's own key`,
        tags,
        params: ExternalParams,
        headers: IfNoneMatchHeaders,
        response: { 200: schemas.record, 304: z.undefined().describe('Not modified'), ...commonProblems, 404: recordNotFound },
      },
    },
    async (request, reply) => sendRead(request, reply, request.params),
  );

  app.delete(
    external,
    {
      config: write,
      schema: {
        operationId: `delete${singular}ByExternalId`,
        summary: `Delete one ${def.tag} record by the caller's own key`,
        tags,
        params: ExternalParams,
        headers: WriteHeaders,
        response: { 204: z.undefined().describe('Deleted'), ...commonProblems, 404: recordNotFound, 409: conflict, 412: stale },
      },
    },
    async (request, reply) => {
      const { ifMatch, ifNoneMatch } = preconditionsOf(request);
      await runWrite(database, request.call, (scope) => engine.remove(scope, def, request.params, ifMatch, ifNoneMatch));
      return reply.code(204).send();
    },
  );
};
