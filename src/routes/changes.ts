import { and, asc, gt, inArray, isNull, not, or, sql } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import { changes } from '../db/schema/index.js';
import { validationFailed } from '../errors.js';
import type { StoredRow } from '../records/definition.js';
import type { RecordEngine } from '../records/engine.js';
import { coveredBy } from '../records/region-scope.js';
import { renderRecord } from '../records/render.js';
import { commonProblems } from '../records/schemas.js';
import type { PiiCipher } from '../security/pii.js';

const ChangeItem = z
  .object({
    seq: z.number().int().describe('Position in the feed; increases in commit order'),
    collection: z.string(),
    id: z.uuid(),
    externalId: z.string().nullable(),
    regionCode: z.string(),
    op: z.enum(['upsert', 'delete']),
    version: z.number().int(),
    movedOut: z
      .boolean()
      .describe(
        'true on a delete entry that only removes the record from your view: it moved to a region you do not cover (it still exists there)',
      ),
    changedAt: z.iso.datetime({ offset: true }),
    record: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe("The record as of this version, in its collection's schema (masked per scope); null for a delete"),
  })
  .meta({ id: 'Change' });

const ChangePage = z
  .object({
    items: z.array(ChangeItem).max(1000),
    nextCursor: z.string().describe('Pass as `after` to continue; unchanged when there was nothing new'),
  })
  .meta({ id: 'ChangePage' });

function encode(seq: number): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}

function decode(cursor: string): number {
  const match = /^s(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw validationFailed([{ path: '/after', message: 'is not a cursor this feed issued', in: 'query' }]);
  return Number(match[1]);
}

export const changeRoutes: FastifyPluginAsyncZod<{ database: Database; engine: RecordEngine; cipher: PiiCipher }> = async (
  app,
  { database, engine, cipher },
) => {
  const names = [...engine.registry.keys()] as [string, ...string[]];

  app.get(
    '/v1/changes',
    {
      config: { scope: 'records:read' },
      schema: {
        operationId: 'listChanges',
        summary: 'Change feed: every committed change in your regions, exactly once, in commit order',
        description:
          'Follow `nextCursor` (as `after`) to read on. A reader that keeps following it sees every committed change exactly once and in order, also when writers commit out of order. Deletes appear as op "delete" with no record. When a record moves to a region you do not cover, you get a delete entry with `movedOut: true` (and nothing more of it); a reader covering both regions sees only the upsert.',
        tags: ['sync'],
        querystring: z.object({
          after: z.string().max(40).optional().describe('Cursor from a previous page; omit to start at the beginning'),
          limit: z.coerce.number().int().min(1).max(1000).default(500).describe('Page size (1–1000, default 500)'),
          collections: z
            .string()
            .optional()
            .describe(`Comma-separated collections to include (${names.join(', ')}); all when omitted`),
        }),
        response: { 200: ChangePage, ...commonProblems },
      },
    },
    async (request) => {
      const { after, limit, collections } = request.query;
      const wanted = collections
        ?.split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      const unknown = wanted?.filter((c) => !engine.registry.has(c));
      if (unknown && unknown.length > 0) {
        throw validationFailed([{ path: '/collections', message: `unknown collection(s): ${unknown.join(', ')}`, in: 'query' }]);
      }
      const afterSeq = after ? decode(after) : 0;
      const region = request.call.principal.region;
      // Only what an entry shows: the time formatted by PostgreSQL (no Date round trip per row), whether
      // the entry is a move out (not the new region), the snapshot as stored.
      const rows = await database.db
        .select({
          seq: changes.seq,
          collection: changes.collection,
          recordId: changes.recordId,
          externalId: changes.externalId,
          regionCode: changes.regionCode,
          op: changes.op,
          version: changes.version,
          movedOut: sql<boolean>`${changes.movedTo} is not null`,
          changedAt: sql<string>`to_char(${changes.changedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
          record: changes.record,
        })
        .from(changes)
        .where(
          and(
            gt(changes.seq, afterSeq),
            coveredBy(changes.regionCode, region),
            // A move out of a region is news only to readers who do not also cover the new region.
            or(isNull(changes.movedTo), not(coveredBy(changes.movedTo, region))),
            wanted ? inArray(changes.collection, wanted) : undefined,
          ),
        )
        .orderBy(asc(changes.seq))
        .limit(limit);

      const showPii = request.call.principal.scopes.has('pii:read');
      const options = { cipher, showPii, region };
      const piiReads: Record<string, { id: string; regionCode: string; version: number }[]> = {};
      const items = rows.map((row) => {
        const def = engine.registry.get(row.collection);
        let record: Record<string, unknown> | null = null;
        if (def && row.record) {
          // The snapshot leaves out what the entry's own columns say (engine.ts `feedSnapshot`). It keeps the
          // regions of the records it refers to: their keys render as null to readers not covering them.
          const stored = row.record as StoredRow;
          stored.id = row.recordId;
          stored.regionCode = row.regionCode;
          stored.externalId = row.externalId;
          stored.version = row.version;
          record = renderRecord(def, stored, options);
          if (showPii && (def.pii?.length ?? 0) > 0) {
            (piiReads[def.name] ??= []).push({ id: row.recordId, regionCode: row.regionCode, version: row.version });
          }
        }
        return {
          seq: row.seq,
          collection: row.collection,
          id: row.recordId,
          externalId: row.externalId,
          regionCode: row.regionCode,
          op: row.op as 'upsert' | 'delete',
          version: row.version,
          movedOut: row.movedOut,
          changedAt: row.changedAt,
          record,
        };
      });
      for (const [collection, reads] of Object.entries(piiReads)) {
        await engine.auditPiiReads(database.db, request.call, collection, reads);
      }
      const last = rows[rows.length - 1];
      return { items, nextCursor: last ? encode(last.seq) : (after ?? encode(0)) };
    },
  );
};
