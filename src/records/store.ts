import { and, eq, getTableColumns, getTableName, inArray, isNotNull, isNull, max, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { recordViews } from '../db/schema/index.js';
import type { CollectionDefinition, RecordTable, RefSpec, SourceParams, StoredRow } from './definition.js';
import { hashKey, refRegionKey } from './render.js';

/** Collections by name: references and the batch endpoint find their targets here. */
export type Registry = ReadonlyMap<string, CollectionDefinition>;

export function definitionIn(registry: Registry, name: string): CollectionDefinition {
  const def = registry.get(name);
  if (!def) throw new Error(`unknown collection ${name}`);
  return def;
}

export function targetsOf(ref: RefSpec): string[] {
  return typeof ref.target === 'string' ? [ref.target] : Object.values(ref.target.targets);
}

function column(table: RecordTable, key: string): PgColumn {
  const col = getTableColumns(table)[key];
  if (!col) throw new Error(`table has no column "${key}"`);
  return col;
}

/** SQL giving a column (`external_id`, `region_code`) of the referenced record(s), evaluated against the referring row. */
function referencedColumn(def: CollectionDefinition, ref: RefSpec, registry: Registry, name: 'external_id' | 'region_code'): SQL {
  // Qualified by table name: the subquery may read the same table (a unit's parent unit).
  const outer = (key: string) => sql`${sql.identifier(getTableName(def.table))}.${sql.identifier(column(def.table, key).name)}`;
  const refColumn = outer(ref.field);
  const lookup = (targetName: string) => {
    const target = registry.get(targetName);
    if (!target) throw new Error(`unknown reference target ${targetName}`);
    const other = sql.identifier(getTableName(target.table));
    if (ref.many) {
      return sql`(select coalesce(array_agg(r.${sql.identifier(name)} order by u.ord), '{}') from unnest(${refColumn}) with ordinality as u(id, ord) join ${other} as r on r.id = u.id)`;
    }
    return sql`(select r.${sql.identifier(name)} from ${other} as r where r.id = ${refColumn})`;
  };
  if (typeof ref.target === 'string') return lookup(ref.target);
  const typeColumn = outer(ref.target.typeField);
  const branches = Object.entries(ref.target.targets).map(([type, name]) => sql`when ${typeColumn} = ${type} then ${lookup(name)}`);
  return sql`(case ${sql.join(branches, sql` `)} end)`;
}

const selections = new WeakMap<CollectionDefinition, Record<string, PgColumn | SQL.Aliased>>();

/**
 * Every column of the table plus, for each reference, `<ref>ExternalId` and the referenced record's
 * region (`refRegionKey`, which the renderer needs to decide whether the caller may see the key).
 */
export function selectionOf(def: CollectionDefinition, registry: Registry): Record<string, PgColumn | SQL.Aliased> {
  let selection = selections.get(def);
  if (!selection) {
    selection = { ...getTableColumns(def.table) };
    for (const ref of def.refs ?? []) {
      selection[ref.externalField] = referencedColumn(def, ref, registry, 'external_id').as(ref.externalField);
      selection[refRegionKey(ref)] = referencedColumn(def, ref, registry, 'region_code').as(refRegionKey(ref));
    }
    selections.set(def, selection);
  }
  return selection;
}

const shownSelections = new WeakMap<CollectionDefinition, Record<string, PgColumn | SQL.Aliased>>();

/**
 * The stored selection less what a read never shows nor needs: the keyed hashes of personal fields (a
 * write compares them; a read renders from the ciphertext or the masked form), the tombstone mark (a
 * read finds live records only) and the kept masked body (`bodySelectionOf` reads it, this selection
 * renders the columns). Each is a column of every row a list page parses.
 */
function shownSelectionOf(def: CollectionDefinition, registry: Registry): Record<string, PgColumn | SQL.Aliased> {
  let selection = shownSelections.get(def);
  if (!selection) {
    const hidden = new Set(['deletedAt', 'maskedBody', 'maskedBodyFormat', ...(def.pii ?? []).map((p) => hashKey(p.field))]);
    selection = Object.fromEntries(Object.entries(selectionOf(def, registry)).filter(([key]) => !hidden.has(key)));
    shownSelections.set(def, selection);
  }
  return selection;
}

/**
 * SQL of correlated subqueries in a read's selection. In a one-table select the query builder writes columns
 * without their table, so a subquery's `officer_id = id` would compare the subquery's own columns: these name
 * both sides explicitly — `qualified(officers.id)` is `"officers"."id"`, `aliased('c', credentials.officerId)`
 * is `"c"."officer_id"`, `fromAs(credentials, 'c')` is `"credentials" as "c"`.
 */
export const qualified = (col: PgColumn): SQL => sql`${sql.identifier(getTableName(col.table))}.${sql.identifier(col.name)}`;
export const aliased = (alias: string, col: PgColumn): SQL => sql`${sql.identifier(alias)}.${sql.identifier(col.name)}`;
export const fromAs = (table: RecordTable, alias: string): SQL => sql`${sql.identifier(getTableName(table))} as ${sql.identifier(alias)}`;

/**
 * What a read selects: the stored selection plus the collection's `computed` sources, evaluated in the same
 * statement with the caller's region range and today (values, or placeholders of a prepared statement).
 */
export function readSelectionOf(def: CollectionDefinition, registry: Registry, params: SourceParams): Record<string, PgColumn | SQL.Aliased> {
  const sources = def.computed?.sources?.(params);
  if (!sources) return shownSelectionOf(def, registry);
  const selection = { ...shownSelectionOf(def, registry) };
  for (const [key, expression] of Object.entries(sources)) selection[key] = expression.as(key);
  return selection;
}

const bodySelections = new WeakMap<CollectionDefinition, Record<string, PgColumn | SQL.Aliased>>();

/**
 * What a read for a caller without pii:read selects: the stamps and the kept masked body instead of the
 * columns it was rendered from, the referenced records' keys and regions, the fields `computed.compute`
 * reads (`computed.reads`) and the `computed` sources. See render.ts `viewFromBody`. With them, what keeping
 * the record whole needs (record-views.ts): the view's `gen` as this read saw it, the regions its sources could show.
 */
export function bodySelectionOf(def: CollectionDefinition, registry: Registry, params: SourceParams): Record<string, PgColumn | SQL.Aliased> {
  let fixed = bodySelections.get(def);
  if (!fixed) {
    const all = selectionOf(def, registry);
    const keys = ['id', 'externalId', 'regionCode', 'version', 'createdAt', 'updatedAt', 'maskedBody', 'maskedBodyFormat', ...(def.computed?.reads ?? [])];
    for (const ref of def.refs ?? []) keys.push(ref.externalField, refRegionKey(ref));
    fixed = Object.fromEntries(
      keys.map((key) => {
        const field = all[key];
        if (!field) throw new Error(`${def.name} has no column or reference key "${key}"`);
        return [key, field];
      }),
    );
    Object.assign(fixed, viewSelectionOf(def));
    bodySelections.set(def, fixed);
  }
  const sources = def.computed?.sources?.(params);
  if (!sources) return fixed;
  const selection = { ...fixed };
  for (const [key, expression] of Object.entries(sources)) selection[key] = expression.as(key);
  return selection;
}

/** The part of a read's selection a view is kept from: the `gen` it saw, the regions its sources could show. */
function viewSelectionOf(def: CollectionDefinition): Record<string, SQL.Aliased> {
  const own = qualified(def.table.id);
  const selection: Record<string, SQL.Aliased> = {
    viewGen: sql<number>`(select v.gen from ${recordViews} as v where v.id = ${own})`.as('viewGen'),
  };
  const regions = def.computed?.regions?.();
  if (regions) {
    selection['viewRegions'] = sql`(select array[min(x.region_code), max(x.region_code)] from (${regions}) as x(region_code))`.as('viewRegions');
  }
  return selection;
}

const sourceKeys = new WeakMap<CollectionDefinition, string[]>();

/** The names of a collection's `computed` sources (the same whatever the parameters). */
export function sourceKeysOf(def: CollectionDefinition): string[] {
  let keys = sourceKeys.get(def);
  if (!keys) {
    const placeholder = sql`null`;
    keys = Object.keys(def.computed?.sources?.({ lo: placeholder, hi: placeholder, today: placeholder }) ?? {});
    sourceKeys.set(def, keys);
  }
  return keys;
}

/** Source values for rows read without them (a write's answer): one statement for all of them. */
export async function loadSources(db: Db, def: CollectionDefinition, ids: string[], params: SourceParams): Promise<Map<string, StoredRow>> {
  const sources = def.computed?.sources?.(params);
  if (!sources || ids.length === 0) return new Map();
  const selection: Record<string, PgColumn | SQL.Aliased> = { id: def.table.id };
  for (const [key, expression] of Object.entries(sources)) selection[key] = expression.as(key);
  const rows = (await db.select(selection).from(def.table).where(inArray(def.table.id, ids))) as StoredRow[];
  return new Map(rows.map((row) => [row.id, row]));
}

export type Target = { id: string } | { regionCode: string; externalId: string };

export function targetCondition(table: RecordTable, target: Target): SQL | undefined {
  return 'id' in target
    ? and(eq(table.id, target.id), isNull(table.deletedAt))
    : and(eq(table.regionCode, target.regionCode), eq(table.externalId, target.externalId), isNull(table.deletedAt));
}

/**
 * The highest version each key's deleted records reached, `regionCode/externalId` → version, in one
 * statement over the tombstone index: a record created under a key used before starts above it, so no tag
 * of a deleted record names the new one (docs/decisions.md, "Versions continue across a delete").
 */
export async function tombstoneVersions(db: Db, table: RecordTable, keys: { regionCode: string; externalId: string }[]): Promise<Map<string, number>> {
  if (keys.length === 0) return new Map();
  const rows = await db
    .select({ regionCode: table.regionCode, externalId: table.externalId, version: max(table.version) })
    .from(table)
    .where(
      and(
        isNotNull(table.deletedAt),
        sql`(${table.regionCode}, ${table.externalId}) in (select * from unnest(${sql.param(keys.map((k) => k.regionCode))}::varchar[], ${sql.param(keys.map((k) => k.externalId))}::varchar[]))`,
      ),
    )
    .groupBy(table.regionCode, table.externalId);
  return new Map(rows.map((row) => [`${row.regionCode}/${row.externalId}`, Number(row.version ?? 0)]));
}

/**
 * Row lock strengths, weakest first. A reference is held with `key share` (it cannot be deleted before
 * commit) or `share` when a rule reads its fields; an update takes `no key update`, a delete `update`.
 */
export const LOCK_STRENGTHS = ['key share', 'share', 'no key update', 'update'] as const;
export type LockStrength = (typeof LOCK_STRENGTHS)[number];

export const lockCovers = (held: LockStrength | undefined, wanted: LockStrength) =>
  held !== undefined && LOCK_STRENGTHS.indexOf(held) >= LOCK_STRENGTHS.indexOf(wanted);

/** Loads live rows matching `where`; `lock` locks them until the transaction ends, in id order (no deadlocks between batches). */
export async function selectRows(
  db: Db,
  def: CollectionDefinition,
  registry: Registry,
  where: SQL | undefined,
  options: { lock?: LockStrength; limit?: number; orderById?: boolean; sources?: SourceParams } = {},
): Promise<StoredRow[]> {
  const selection = options.sources ? readSelectionOf(def, registry, options.sources) : selectionOf(def, registry);
  const base = db.select(selection).from(def.table).where(where);
  const ordered = options.orderById || options.lock ? base.orderBy(def.table.id) : base;
  const limited = options.limit !== undefined ? ordered.limit(options.limit) : ordered;
  const rows = options.lock ? await limited.for(options.lock, { of: def.table }) : await limited;
  return rows as StoredRow[];
}

export function columnOf(def: CollectionDefinition, key: string): PgColumn {
  return column(def.table, key);
}
