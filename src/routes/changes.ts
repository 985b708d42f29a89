import { sql, type SQL } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { queryRows, type Database, type Db } from '../db/client.js';
import { changeSequence, changes } from '../db/schema/index.js';
import { validationFailed } from '../errors.js';
import { cursorText } from '../http/cursor.js';
import type { StoredRow } from '../records/definition.js';
import type { RecordEngine } from '../records/engine.js';
import { coverageRange } from '../records/region-scope.js';
import { coveragePrefix } from '../domain/region.js';
import { renderFormat, renderRecord } from '../records/render.js';
import { commonProblems, queryInteger } from '../records/schemas.js';
import { itemsPageBytes, sendJsonBytes } from '../http/json-bytes.js';
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
    nextCursor: z
      .string()
      .describe('Pass as `after` to continue; unchanged when nothing was committed since. It may move past entries of regions you do not cover, so a page can be short, even empty, while more follows: keep following it.'),
  })
  .meta({ id: 'ChangePage' });

function encode(seq: number): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}

function decode(cursor: string): number {
  // As issued: no leading zeros (`s007` would read as entry 7).
  const match = /^s(0|[1-9]\d{0,14})$/.exec(cursorText(cursor) ?? '');
  if (!match) throw validationFailed([{ path: '/after', message: 'is not a cursor this feed issued', in: 'query' }]);
  return Number(match[1]);
}

interface FeedRow extends Record<string, unknown> {
  seq: number;
  collection: string;
  recordId: string;
  externalId: string | null;
  regionCode: string;
  op: string;
  version: number;
  movedOut: boolean;
  changedAt: string;
  /** The snapshot, to render for this reader; null when `masked` is given. */
  record: unknown;
  /** The record as rendered when written, right for this reader as it is (JSON text); else null. */
  masked: string | null;
}

/**
 * A feed row as selected: the time formatted by PostgreSQL (no Date round trip per row), whether it is a
 * move out, and either the record's masked view kept when it was written — when it is right for this reader
 * (`viewFits`) — or its snapshot to render.
 */
function feedColumns(viewFits: SQL) {
  return sql`c.seq::int8 as "seq", c.collection as "collection", c.record_id as "recordId", c.external_id as "externalId",
  c.region_code as "regionCode", c.op as "op", c.version as "version", c.moved_to is not null as "movedOut",
  to_char(c.changed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "changedAt",
  case when ${viewFits} then c.masked_record end as "masked", case when ${viewFits} then null else c.record end as "record"`;
}

/**
 * Whether an entry's kept view (`maskedView`) is what this reader would be rendered: the reader sees
 * personal fields masked, covers every record the view shows the key of, and the view is in the current
 * format of its collection.
 */
function viewFitsReader(showPii: boolean, lo: string, hi: string, formats: string[]): SQL {
  if (showPii) return sql`false`;
  return sql`(c.masked_record is not null and (c.masked_record_scope is null or c.masked_record_scope between ${lo} and ${hi})
    and c.masked_record_format = any(${sql.param(formats)}::text[]))`;
}

/** The largest window of the feed one statement scans for a city or province reader. */
const MAX_WINDOW = 8000;

/**
 * The most entries of other regions one request of a city or province reader passes over: past it the page
 * ends (short, maybe empty) and the cursor moves to the last entry passed, so a reader whose regions wrote
 * nothing for a long stretch of the feed pays for it a bounded piece per request, not the whole stretch again
 * on every poll.
 */
const MAX_SCAN = 64_000;

/** A page of the caller's entries and, where the page is short, the last entry of the feed it looked at. */
interface FeedPage {
  rows: FeedRow[];
  /** Every entry up to this seq was looked at (none after the page's last row was the caller's). */
  scannedTo?: number | undefined;
}

/**
 * The caller's next entries after `afterSeq`, at most `limit`, in seq order — with a plan that does not
 * depend on planner statistics (a feed table grows fast, and a stale estimate turned a page into a bitmap
 * scan and sort of every later row of the region). A district reader's entries are a range of
 * `changes_region_seq_idx`, read in order. A city or province covers a range of codes, which no index
 * gives in seq order: the statement reads a window of the feed — the `window` sequence numbers from the
 * first entry after the cursor — by the primary key, in order, and keeps the caller's; when that leaves
 * the page short and the feed goes on, the next window follows on from the window's last entry, each twice
 * as large. Sequence numbers are handed out without gaps (write-scope.ts `flush`), so a window of numbers
 * is a window of entries; a gap only makes a window hold fewer, and a window starts at the first entry after
 * the cursor, so a long stretch of numbers without entries is stepped over. The window's end is the last entry
 * the statement saw, so every entry below it was visible too (feed ordering, docs/decisions.md): nothing
 * is skipped. The window is bounded by numbers rather than by `limit window` over the rows, which had to
 * materialize every row of the window (snapshots included) to count them: a third of a page's time.
 */
async function readPage(
  db: Db,
  afterSeq: number,
  limit: number,
  region: string,
  wanted: string[] | undefined,
  viewFits: (lo: string, hi: string) => SQL,
): Promise<FeedPage> {
  const [lo, hi] = coverageRange(region);
  const columns = feedColumns(viewFits(lo, hi));
  const prefix = coveragePrefix(region);
  // A move out of a region is news only to readers who do not also cover the new region.
  const notMovedWithin = sql`(c.moved_to is null or c.moved_to not between ${lo} and ${hi})`;
  const inCollections = wanted ? sql` and c.collection = any(${sql.param(wanted)}::text[])` : sql``;
  if (prefix.length === 6) {
    const rows = await queryRows<FeedRow>(
      db,
      sql`select ${columns} from ${changes} as c
          where c.region_code = ${region} and c.seq > ${afterSeq} and ${notMovedWithin}${inCollections}
          order by c.seq limit ${limit}`,
    );
    return { rows: rows.map(fromDriver) };
  }
  const out: FeedRow[] = [];
  let from = afterSeq;
  let scanned = 0;
  for (let window = Math.min(MAX_WINDOW, limit + 250); ; window = Math.min(MAX_WINDOW, window * 2)) {
    // `windowStart`: the first entry after the cursor (null at the feed's end); `windowEnd`: the last entry of
    // the window this statement sees; `more`: whether it sees an entry after the window.
    const rows = await queryRows<FeedRow & { windowStart: unknown; windowEnd: unknown; more: boolean | null }>(
      db,
      // Materialized: else the planner runs w's subqueries again for every row of the page.
      sql`with w as materialized (
            select b.first as "windowStart",
                   (select max(seq) from ${changes} where seq >= b.first and seq < b.first + ${window}::int8)::int8 as "windowEnd",
                   exists (select from ${changes} where seq >= b.first + ${window}::int8) as "more"
              from (select min(seq)::int8 as first from ${changes} where seq > ${from}) as b
          )
          select w."windowStart", w."windowEnd", w."more", p.* from w
          left join lateral (
            select ${columns} from ${changes} as c
            where c.seq >= w."windowStart" and c.seq < w."windowStart" + ${window}::int8
              and c.region_code between ${lo} and ${hi} and ${notMovedWithin}${inCollections}
            order by c.seq limit ${limit - out.length}
          ) as p on true`,
    );
    const first = rows[0];
    for (const row of rows) if (row.seq !== null) out.push(fromDriver(row));
    if (out.length >= limit) return { rows: out };
    // Short: every entry of the window was looked at, and moving the cursor to its end skips nothing.
    if (first?.windowEnd === null || first?.windowEnd === undefined) return { rows: out };
    const windowStart = Number(first.windowStart);
    const windowEnd = Number(first.windowEnd);
    scanned += windowEnd - windowStart + 1;
    // No entry after the window: the feed ends there, for now. (An entry after it is visible, so every entry
    // of the window is: the next window starts at the next entry, past any numbers without one.)
    if (!first.more || scanned >= MAX_SCAN) return { rows: out, scannedTo: windowEnd };
    from = windowEnd;
  }
}

/**
 * A cursor past the last entry its reader could have been given was never issued to it (it comes from another
 * database, from before a restore, or from a reader of other regions): following it would answer empty pages
 * for ever while entries go by. A district reader's cursors are the numbers of its own entries, so its bound is
 * its region's last entry — the answer then depends on nothing written elsewhere. A city's or province's
 * cursor moves past other regions' entries (`scannedTo`), so its bound is the last number handed out. Checked
 * on an empty page only, which is where such a reader ends up; one index probe or one row read by key.
 */
async function assertIssued(db: Db, afterSeq: number, region: string): Promise<void> {
  const [bound] = await queryRows<{ last: string | number | null }>(
    db,
    coveragePrefix(region).length === 6
      ? sql`select max(seq) as "last" from ${changes} where region_code = ${region}`
      : sql`select last_seq as "last" from ${changeSequence} where id = 1`,
  );
  if (afterSeq > Number(bound?.last ?? 0)) {
    throw validationFailed([
      {
        path: '/after',
        message: 'is past the end of your feed: it was not issued to you here (another database, before a restore, or another reader); start again without it',
        in: 'query',
      },
    ]);
  }
}

function fromDriver(row: FeedRow): FeedRow {
  row.seq = Number(row.seq);
  return row;
}

/**
 * One entry of a page as JSON: the fields of `ChangeItem` in its order, the record as JSON text — kept
 * from the write or just rendered. Not the route's compiled serializer: a record is free-form, which that
 * serializer checks against its schema and then writes key by key, a fifth of a page's time.
 */
function entryJson(row: FeedRow, record: string): string {
  const entry: Omit<z.output<typeof ChangeItem>, 'record'> = {
    seq: row.seq,
    collection: row.collection,
    id: row.recordId,
    externalId: row.externalId,
    regionCode: row.regionCode,
    op: row.op as 'upsert' | 'delete',
    version: row.version,
    movedOut: row.movedOut,
    changedAt: row.changedAt,
  };
  return `${JSON.stringify(entry).slice(0, -1)},"record":${record}}`;
}

export const changeRoutes: FastifyPluginAsyncZod<{ database: Database; engine: RecordEngine; cipher: PiiCipher }> = async (
  app,
  { database, engine, cipher },
) => {
  const names = [...engine.registry.keys()] as [string, ...string[]];
  const formats = [...engine.registry.values()].map((def) => renderFormat(def));

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
          limit: queryInteger(1, 1000, 500).describe('Page size (1–1000, default 500)'),
          collections: z
            .string()
            .optional()
            .describe(`Comma-separated collections to include (${names.join(', ')}); all when omitted`),
        }),
        response: { 200: ChangePage, ...commonProblems },
      },
    },
    async (request, reply) => {
      const { after, limit, collections } = request.query;
      const wanted = collections
        ?.split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      // Naming no collection would match nothing while a city's cursor still moved past every entry.
      if (wanted && wanted.length === 0) {
        throw validationFailed([{ path: '/collections', message: 'names no collection: omit it to follow all of them', in: 'query' }]);
      }
      const unknown = wanted?.filter((c) => !engine.registry.has(c));
      if (unknown && unknown.length > 0) {
        throw validationFailed([{ path: '/collections', message: `unknown collection(s): ${unknown.join(', ')}`, in: 'query' }]);
      }
      const afterSeq = after ? decode(after) : 0;
      const region = request.call.principal.region;
      const showPii = request.call.principal.scopes.has('pii:read');
      const { rows, scannedTo } = await readPage(database.db, afterSeq, limit, region, wanted, (lo, hi) =>
        viewFitsReader(showPii, lo, hi, formats),
      );
      if (rows.length === 0 && scannedTo === undefined && afterSeq > 0) await assertIssued(database.db, afterSeq, region);
      const options = { cipher, showPii, region };
      const piiReads: Record<string, { id: string; regionCode: string; version: number }[]> = {};
      const items = rows.map((row) => {
        if (row.masked !== null) return entryJson(row, row.masked);
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
        return entryJson(row, JSON.stringify(record));
      });
      for (const [collection, reads] of Object.entries(piiReads)) {
        await engine.auditPiiReads(database.db, request.call, collection, reads);
      }
      const lastSeq = Math.max(rows[rows.length - 1]?.seq ?? afterSeq, scannedTo ?? afterSeq);
      // Always in the feed's own form, made here rather than the caller's string given back.
      const nextCursor = encode(lastSeq);
      // Written entry by entry rather than by the route's compiled serializer (see `entryJson`), and sent as
      // bytes (json-bytes.ts).
      return sendJsonBytes(reply, itemsPageBytes(items, { nextCursor }));
    },
  );
};
