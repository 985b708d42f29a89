import { createHash } from 'node:crypto';
import { getTableName, sql, type SQL } from 'drizzle-orm';
import { PgDialect, type PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { recordViews } from '../db/schema/index.js';
import type { CollectionDefinition, StoredRow } from './definition.js';
import { bodyFormat, refRegionKey } from './render.js';
import { bodySelectionOf, columnOf, targetsOf, type Registry } from './store.js';

/**
 * Records kept whole, as a reader without pii:read is sent them (table `record_views`, one row per record).
 *
 * A masked read put together from the kept body (render.ts `viewFromBody`) still reads, per record, the
 * keys of the records it references and its `computed` sources — an officer's summary is four subqueries,
 * most of a list's time in the database — and writes them into the JSON. A record's view keeps that JSON
 * and its tag, and a read that finds every view it needs good sends them as they are: one statement, no
 * rendering. A view is good for:
 * - the version it was made from (a write of the record makes a new version: its view is left behind);
 * - the day it was made on (read-time fields depend on today in Asia/Shanghai);
 * - the render format (`viewFormatOf`: the body format and the read's SQL, so a release that renders
 *   records or summaries differently leaves every view behind);
 * - readers whose regions cover `lo`…`hi`, the lowest and highest region of the record, of the records it
 *   references and of every row its sources could show: such readers are all shown the same JSON. A view
 *   is kept only from a read by such a reader (`keptRange`);
 * - as long as no write of another record changes what it shows. Such a write — a credential of an officer
 *   (`computed.dependsOn`), a referenced record moved to another region or given another key — raises the
 *   view's `gen` and empties it in its own transaction (`dropViewsStatement`). A view is kept only if its
 *   `gen` is still the one the read that rendered it saw (`keepViewsStatement`); a read that saw no row
 *   saw gen 0, and a write that finds no row inserts one at gen 1. So a view rendered before a write
 *   commits is never kept after it, in whichever order the two statements run.
 * Any read that finds a view missing or not good renders the record as before, and the view is kept after
 * the answer is sent (`ViewKeeper`).
 */

/** Raised whenever what a view holds or how it is made changes meaning. */
const VIEW_VERSION = 1;

const dialect = new PgDialect();
const formats = new WeakMap<CollectionDefinition, string>();

/** The render format of a collection's views: changes with the body format and with the SQL of the read. */
export function viewFormatOf(def: CollectionDefinition, registry: Registry): string {
  let format = formats.get(def);
  if (!format) {
    const placeholder = { lo: sql`${sql.placeholder('lo')}`, hi: sql`${sql.placeholder('hi')}`, today: sql`${sql.placeholder('today')}` };
    const selection = Object.entries(bodySelectionOf(def, registry, placeholder)).map(([key, field]) => sql`${field} as ${sql.identifier(key)}`);
    const text = dialect.sqlToQuery(sql.join(selection, sql`, `)).sql;
    format = `${VIEW_VERSION}.${createHash('sha256').update(`${bodyFormat(def)}\n${text}`).digest('base64url').slice(0, 16)}`;
    formats.set(def, format);
  }
  return format;
}

/**
 * Where a view joins its record (`id`, `version`: its row's columns) and is good for a reader of `lo`…`hi`
 * on `today` (values or placeholders).
 */
export function goodViewOf(def: CollectionDefinition, registry: Registry, at: { id: SQL | PgColumn; version: SQL | PgColumn; today: SQL; lo: SQL; hi: SQL }): SQL {
  const v = recordViews;
  return sql`${v.id} = ${at.id} and ${v.version} = ${at.version} and ${v.day} = ${at.today} and ${v.format} = ${viewFormatOf(def, registry)}
    and ${v.lo} >= ${at.lo} and ${v.hi} <= ${at.hi}`;
}

/** What a rendered record needs to be kept as a view (engine.ts `presentViews`). */
export interface ViewToKeep {
  id: string;
  version: number;
  gen: number;
  json: string;
  etag: string;
  /** The lowest and highest region the view involves. */
  lo: string;
  hi: string;
}

/**
 * The regions a record read in the body form involves (its own, its references', its sources' rows),
 * or undefined when the reader does not cover them all: then it was not shown everything, and its view
 * is not kept.
 */
export function keptRange(def: CollectionDefinition, row: Record<string, unknown>, reader: { lo: string; hi: string }): { lo: string; hi: string } | undefined {
  let lo = row['regionCode'] as string;
  let hi = lo;
  const add = (region: unknown) => {
    if (typeof region !== 'string') return;
    if (region < lo) lo = region;
    if (region > hi) hi = region;
  };
  for (const ref of def.refs ?? []) {
    const region = row[refRegionKey(ref)];
    if (Array.isArray(region)) region.forEach(add);
    else add(region);
  }
  const sources = row['viewRegions'];
  if (Array.isArray(sources)) sources.forEach(add);
  return lo >= reader.lo && hi <= reader.hi ? { lo, hi } : undefined;
}

/**
 * Keeps views unless a write raised their `gen` since they were read (see the module comment). One
 * statement for all of them; a view of a record meanwhile written again is kept and never good.
 */
export function keepViewsStatement(views: readonly ViewToKeep[], day: string, format: string): SQL {
  return sql`insert into ${recordViews} as v (id, gen, version, day, format, lo, hi, etag, json)
    select x.id, x.gen, x.version, ${day}::date, ${format}, x.lo, x.hi, x.etag, x.json
      from unnest(
        ${sql.param(views.map((v) => v.id))}::uuid[],
        ${sql.param(views.map((v) => v.gen))}::int[],
        ${sql.param(views.map((v) => v.version))}::int[],
        ${sql.param(views.map((v) => v.lo))}::varchar[],
        ${sql.param(views.map((v) => v.hi))}::varchar[],
        ${sql.param(views.map((v) => v.etag))}::text[],
        ${sql.param(views.map((v) => v.json))}::text[]
      ) as x(id, gen, version, lo, hi, etag, json)
      order by x.id
    on conflict (id) do update set version = excluded.version, day = excluded.day, format = excluded.format,
      lo = excluded.lo, hi = excluded.hi, etag = excluded.etag, json = excluded.json
    where v.gen = excluded.gen`;
}

/**
 * Empties the views of the given records and of those `queries` select (each a query of one uuid column),
 * raising their `gen` — inserting it at 1 where no view was kept yet, so a read that saw none keeps none.
 * In id order: two transactions dropping the same views lock them in the same order.
 */
export function dropViewsStatement(ids: readonly string[], queries: readonly SQL[]): SQL {
  const parts = [sql`select unnest(${sql.param([...ids])}::uuid[])`, ...queries];
  return sql`insert into ${recordViews} as v (id, gen)
    select s.id, 1 from (${sql.join(parts, sql` union `)}) as s(id) where s.id is not null order by s.id
    on conflict (id) do update set gen = v.gen + 1, json = null`;
}

/** How a write of one collection reaches the views of other records: who embeds it, who references it. */
export interface ViewDependents {
  /** Records whose computed fields show a row of this collection, named by the row. */
  owners: ((row: StoredRow) => unknown)[];
  /** The same, selected by the written ids. */
  ownerQueries: ((ids: SQL) => SQL)[];
  /** Records that reference rows of this collection (they show its key, to readers covering its region). */
  referrers: ((ids: SQL) => SQL)[];
}

/** For each collection, the records whose views its writes may change (see `ViewDependents`). */
export function viewDependentsOf(registry: Registry): Map<string, ViewDependents> {
  const map = new Map<string, ViewDependents>();
  const entry = (name: string) => {
    let found = map.get(name);
    if (!found) {
      found = { owners: [], ownerQueries: [], referrers: [] };
      map.set(name, found);
    }
    return found;
  };
  for (const def of registry.values()) {
    // Fields read from other records that no write would ever empty: kept views would show them stale.
    if (def.computed?.sources && (!def.computed.dependsOn || !def.computed.regions)) {
      throw new Error(`${def.name} reads other records in computed.sources: declare computed.dependsOn and computed.regions`);
    }
    for (const [source, spec] of Object.entries(def.computed?.dependsOn ?? {})) {
      if (!registry.has(source)) throw new Error(`${def.name} depends on unknown collection ${source}`);
      if ('owner' in spec) entry(source).owners.push(spec.owner);
      else entry(source).ownerQueries.push(spec.owners);
    }
    const table = sql.identifier(getTableName(def.table));
    for (const ref of def.refs ?? []) {
      const column = sql.identifier(columnOf(def, ref.field).name);
      const query = (ids: SQL) =>
        ref.many ? sql`select id from ${table} where ${column} && ${ids}` : sql`select id from ${table} where ${column} = any(${ids})`;
      for (const target of targetsOf(ref)) entry(target).referrers.push(query);
    }
  }
  return map;
}

/**
 * Keeps the views that reads rendered, after their answers are sent: one statement per collection and
 * day at a time, the rest waiting (at most `limit` views; more are dropped — a later read renders them
 * again). A failure loses nothing but the views: `onError` is told.
 */
export class ViewKeeper {
  private pending = new Map<string, { def: CollectionDefinition; day: string; views: Map<string, ViewToKeep> }>();
  private size = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly registry: Registry,
    private readonly onError: (err: unknown) => void,
    private readonly limit = 5_000,
  ) {}

  offer(def: CollectionDefinition, day: string, views: readonly ViewToKeep[]) {
    if (views.length === 0) return;
    const key = `${def.name}|${day}`;
    let batch = this.pending.get(key);
    if (!batch) {
      batch = { def, day, views: new Map() };
      this.pending.set(key, batch);
    }
    for (const view of views) {
      if (this.size >= this.limit) break;
      if (!batch.views.has(view.id)) this.size++;
      batch.views.set(view.id, view);
    }
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves when every view offered so far has been kept or given up. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain() {
    // Let the answer that offered the views go out first.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      const next = this.pending.entries().next();
      if (next.done) return;
      const [key, batch] = next.value;
      this.pending.delete(key);
      this.size -= batch.views.size;
      try {
        await this.db.execute(keepViewsStatement([...batch.views.values()], batch.day, viewFormatOf(batch.def, this.registry)));
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
