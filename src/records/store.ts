import { and, eq, getTableColumns, getTableName, isNull, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import type { CollectionDefinition, RecordTable, RefSpec, StoredRow } from './definition.js';
import { refRegionKey } from './render.js';

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

export type Target = { id: string } | { regionCode: string; externalId: string };

export function targetCondition(table: RecordTable, target: Target): SQL | undefined {
  return 'id' in target
    ? and(eq(table.id, target.id), isNull(table.deletedAt))
    : and(eq(table.regionCode, target.regionCode), eq(table.externalId, target.externalId), isNull(table.deletedAt));
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
  options: { lock?: LockStrength; limit?: number; orderById?: boolean } = {},
): Promise<StoredRow[]> {
  const base = db.select(selectionOf(def, registry)).from(def.table).where(where);
  const ordered = options.orderById || options.lock ? base.orderBy(def.table.id) : base;
  const limited = options.limit !== undefined ? ordered.limit(options.limit) : ordered;
  const rows = options.lock ? await limited.for(options.lock, { of: def.table }) : await limited;
  return rows as StoredRow[];
}

export function columnOf(def: CollectionDefinition, key: string): PgColumn {
  return column(def.table, key);
}
