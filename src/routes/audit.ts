import { and, desc, eq, gte, isNotNull, lt, lte, or } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import { auditLog } from '../db/schema/index.js';
import { validationFailed } from '../errors.js';
import { cursorText } from '../http/cursor.js';
import { regionFilter } from '../records/region-scope.js';
import { commonProblems, Instant, queryInteger, RegionCode } from '../records/schemas.js';
import { AUDIT_OPS, NO_RECORD, type AuditOp } from '../records/write-scope.js';

const AuditEntry = z
  .object({
    id: z.number().int(),
    at: z.iso.datetime({ offset: true }).describe('When 时间'),
    sub: z.string().describe('Who: the token subject 操作人'),
    clientId: z.string().nullable().describe('Which client application 客户端'),
    callerRegion: z.string().describe("The caller's region"),
    requestId: z.string().nullable().describe('Request id, as in the logs and problem bodies'),
    collection: z.string(),
    recordId: z.uuid().nullable().describe('The record written; null for a refused create (no record exists)'),
    regionCode: z.string().describe("The record's region"),
    op: z
      .enum(AUDIT_OPS)
      .describe(
        'create, update, delete; read_pii (personal data shown in full); identity_conflict (a write refused because another active person holds the ID number — the holder is never named), identity_rolled_back (another write carrying an ID number that did not commit), identity_throttled (one per request whose writes setting ID numbers got 429 too_many_identity_probes). The identity_* rows are written even when the write\'s transaction rolled back.',
      ),
    version: z.number().int().nullable(),
    movedFrom: z
      .string()
      .nullable()
      .describe("The record's region before this write, when the write moved it to another region (auditors of either region see it)"),
  })
  .meta({ id: 'AuditEntry' });

const AuditPage = z
  .object({ items: z.array(AuditEntry).max(500), nextCursor: z.string().nullable() })
  .meta({ id: 'AuditPage' });

export const auditRoutes: FastifyPluginAsyncZod<{ database: Database }> = async (app, { database }) => {
  app.get(
    '/v1/audit',
    {
      config: { scope: 'audit:read' },
      schema: {
        operationId: 'listAuditEntries',
        summary: 'Audit log of writes and unmasked reads in your regions, newest first',
        tags: ['audit'],
        querystring: z.object({
          limit: queryInteger(1, 500, 100),
          cursor: z.string().max(40).optional(),
          regionCode: RegionCode.optional(),
          collection: z.string().max(40).optional(),
          recordId: z.uuid().optional(),
          sub: z.string().max(200).optional(),
          op: z.enum(AUDIT_OPS).optional(),
          from: Instant.optional().describe('At or after this instant'),
          to: Instant.optional().describe('At or before this instant'),
        }),
        response: { 200: AuditPage, ...commonProblems },
      },
    },
    async (request) => {
      const q = request.query;
      let before: number | undefined;
      if (q.cursor) {
        const match = /^a(0|[1-9]\d{0,14})$/.exec(cursorText(q.cursor) ?? '');
        if (!match) throw validationFailed([{ path: '/cursor', message: 'is not a cursor this service issued', in: 'query' }]);
        before = Number(match[1]);
      }
      const rows = await database.db
        .select()
        .from(auditLog)
        .where(
          and(
            // A move is shown to the auditors of the old region too.
            or(
              regionFilter(auditLog.regionCode, request.call.principal.region, q.regionCode),
              and(isNotNull(auditLog.movedFrom), regionFilter(auditLog.movedFrom, request.call.principal.region, q.regionCode)),
            ),
            q.collection ? eq(auditLog.collection, q.collection) : undefined,
            q.recordId ? eq(auditLog.recordId, q.recordId) : undefined,
            q.sub ? eq(auditLog.sub, q.sub) : undefined,
            q.op ? eq(auditLog.op, q.op) : undefined,
            q.from ? gte(auditLog.at, new Date(q.from)) : undefined,
            q.to ? lte(auditLog.at, new Date(q.to)) : undefined,
            before !== undefined ? lt(auditLog.id, before) : undefined,
          ),
        )
        .orderBy(desc(auditLog.id))
        .limit(q.limit + 1);
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return {
        items: page.map((r) => ({
          ...r,
          recordId: r.recordId === NO_RECORD ? null : r.recordId,
          at: r.at.toISOString(),
          op: r.op as AuditOp,
        })),
        nextCursor: rows.length > q.limit && last ? Buffer.from(`a${last.id}`).toString('base64url') : null,
      };
    },
  );
};
