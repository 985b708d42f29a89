import { createHash } from 'node:crypto';
import { getTableName, is, sql, type Placeholder, type SQL } from 'drizzle-orm';
import { PgColumn, PgDialect } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { CollectionDefinition, SourceParams, StoredRow } from './definition.js';
import { RawJson } from './render.js';
import { bodySelectionOf, qualified, readSelectionOf, type Registry } from './store.js';

/**
 * A collection's list statement, compiled once: the query builder renders the selection — every column,
 * the keys and regions of referenced records, the `computed` sources — a few hundred SQL fragments that
 * cost ~0.5 ms to render on every request. Rendered once per collection with the caller-dependent values
 * (region range, today) as slots, a list request renders only its own WHERE clause — for a small statement
 * choosing the page's ids, planned for its values — and fills the slots of the selection of those ids, a
 * statement prepared once per collection and connection. PostgreSQL only: on PGlite lists use the query
 * builder.
 */
interface CompiledSelection {
  /** `select … from ` split at its parameters: parts.length === slots.length + 1. */
  parts: string[];
  slots: Slot[];
  /**
   * Table columns by result key, to map driver values as the query builder would — but for the record's
   * own times, which stay in PostgreSQL's text form: the renderer rewrites that form (render.ts `instant`)
   * where a Date would cost a parse here and a `toISOString` there, three per row.
   */
  columns: Map<string, PgColumn>;
}

/** The record's own times, left as PostgreSQL writes them (see `CompiledSelection.columns`). */
const TEXT_TIMES = new Set(['createdAt', 'updatedAt']);

const asText = (text: string) => text;

/**
 * Type parsers of the selection: times come as text, as drizzle's own driver takes them (its columns map the
 * text to a Date); everything else as `pg` parses it.
 */
const selectionTypes = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.TIMESTAMPTZ || oid === pg.types.builtins.TIMESTAMP ? asText : pg.types.getTypeParser(oid, format),
};

const asRawJson = (text: string) => new RawJson(text);

/**
 * In the `body` form, for readers without pii:read, the `computed` sources' JSON also stays text (`RawJson`):
 * a summary built whole by the database is sent as it is.
 */
const bodySelectionTypes = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === pg.types.builtins.JSON ? asRawJson : selectionTypes.getTypeParser(oid, format)),
};

type Slot = { placeholder: keyof SourceParams } | { value: unknown };

const dialect = new PgDialect();
/** The selection in full (every column the record is rendered from) or with the kept masked body instead (engine.ts `ReadForm`). */
export type SelectionForm = 'full' | 'body';
const compiled = { full: new WeakMap<CollectionDefinition, CompiledSelection>(), body: new WeakMap<CollectionDefinition, CompiledSelection>() };

function compileSelection(def: CollectionDefinition, registry: Registry, form: SelectionForm): CompiledSelection {
  const params: SourceParams = {
    lo: sql`${sql.placeholder('lo')}`,
    hi: sql`${sql.placeholder('hi')}`,
    today: sql`${sql.placeholder('today')}`,
  };
  const columns = new Map<string, PgColumn>();
  const selection = form === 'body' ? bodySelectionOf(def, registry, params) : readSelectionOf(def, registry, params);
  const fields = Object.entries(selection).map(([key, field]) => {
    if (is(field, PgColumn)) {
      if (!TEXT_TIMES.has(key)) columns.set(key, field);
      return sql`${qualified(field)} as ${sql.identifier(key)}`;
    }
    return sql`${(field as SQL.Aliased).sql} as ${sql.identifier(key)}`;
  });
  const query = dialect.sqlToQuery(sql`select ${sql.join(fields, sql`, `)} from `);
  const parts = query.sql.split(/\$\d+\b/);
  if (parts.length !== query.params.length + 1) throw new Error(`cannot compile the selection of ${def.name}`);
  const slots = query.params.map((p): Slot => {
    const name = (p as Placeholder | undefined)?.name;
    return typeof name === 'string' && (name === 'lo' || name === 'hi' || name === 'today') ? { placeholder: name } : { value: p };
  });
  // Every placeholder must be a known slot (a stray one would be sent as an object).
  for (const slot of slots) if ('value' in slot && slot.value !== null && typeof slot.value === 'object') throw new Error(`unknown parameter in ${def.name}`);
  return { parts, slots, columns };
}

export interface CompiledListQuery {
  where: SQL | undefined;
  limit: number;
  /** The caller's region range and today, as values. */
  lo: string;
  hi: string;
  today: string;
}

/**
 * A list page: the ids its WHERE clause chose (in id order, at most `limit`), and the rows of those that still
 * match it when they are read — as the query builder would give them with the same selection, ordered by id.
 */
export async function compiledList(
  pool: pg.Pool,
  def: CollectionDefinition,
  registry: Registry,
  query: CompiledListQuery,
  form: SelectionForm = 'full',
): Promise<{ ids: string[]; rows: StoredRow[] }> {
  let selection = compiled[form].get(def);
  if (!selection) {
    selection = compileSelection(def, registry, form);
    compiled[form].set(def, selection);
  }
  const values = { lo: query.lo, hi: query.hi, today: query.today };
  const chunks: SQL[] = [];
  selection.parts.forEach((part, i) => {
    chunks.push(sql.raw(part));
    const slot = selection.slots[i];
    if (slot) chunks.push(sql`${'placeholder' in slot ? values[slot.placeholder] : slot.value}`);
  });
  const where = query.where ? sql` where ${query.where}` : sql``;
  const table = sql.identifier(getTableName(def.table));
  const id = qualified(def.table.id);
  // The page first, planned for its values (an unnamed statement): which plan is right depends on how many rows
  // the filter matches — walk the key and stop at the limit, or use the filter's index and sort — and a generic
  // plan, made once for any values, scanned and sorted every officer of a city for a page of 50.
  // The ids come back as one array value: a row per id costs the driver more than the statement itself.
  const page = dialect.sqlToQuery(
    sql`select coalesce(array_agg(p.id order by p.id), '{}') as ids from (select ${id} as id from ${table}${where} order by ${id} limit ${query.limit}) as p`,
  );
  const [first] = (await pool.query<{ ids: string[] }>({ text: page.sql, values: page.params })).rows;
  const ids = first?.ids ?? [];
  if (ids.length === 0) return { ids, rows: [] };
  // Then the selection for those rows only, its subqueries once per row: prepared once per collection and
  // combination of filters. It is a second statement, so the page's WHERE clause applies again: a record
  // deleted, moved out of the caller's regions or out of the filter since the first is left out here, not
  // sent as it now is.
  const statement = dialect.sqlToQuery(
    sql`${sql.join(chunks)}(select * from ${table} where ${id} = any(${sql.param(ids)}::uuid[])${query.where ? sql` and (${query.where})` : sql``}) as ${table} order by ${id}`,
  );
  const name = `read_${createHash('sha1').update(statement.sql).digest('base64url').slice(0, 20)}`;
  const types = form === 'body' ? bodySelectionTypes : selectionTypes;
  const raw = (await pool.query({ name, text: statement.sql, values: statement.params, types })).rows as Record<string, unknown>[];
  const columns = [...selection.columns];
  for (const row of raw) {
    for (const [key, column] of columns) {
      const value = row[key];
      if (value !== null && value !== undefined) row[key] = column.mapFromDriverValue(value);
    }
  }
  return { ids, rows: raw as StoredRow[] };
}
