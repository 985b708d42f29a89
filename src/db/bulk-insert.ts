import { getTableColumns, getTableName, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { queryRows, type Db } from './client.js';

/**
 * Inserts many rows with one bind parameter: the rows as a JSON array, expanded by `jsonb_to_recordset`
 * into typed columns. Building a VALUES list of thousands of rows costs more in the query builder than
 * PostgreSQL spends inserting them, and a VALUES list runs out of bind parameters (65,535) near 2,500
 * rows of 25 columns; one JSON parameter does neither. Only the columns present in the first row are
 * written (every row must have the same keys); the others take their defaults.
 * Returns the `returning` columns (JS keys) of the inserted rows, in insertion order.
 */
export async function insertJsonRows(
  db: Db,
  table: PgTable,
  rows: Record<string, unknown>[],
  returning: string[] = [],
): Promise<Record<string, unknown>[]> {
  if (rows.length === 0) return [];
  const columns = getTableColumns(table);
  const keys = Object.keys(rows[0]!).filter((key) => columns[key]);
  const names = keys.map((key) => columns[key]!.name);
  const payload = rows.map((row) => Object.fromEntries(keys.map((key, i) => [names[i], row[key] ?? null])));
  const definition = sql.join(
    keys.map((key) => sql`${sql.identifier(columns[key]!.name)} ${sql.raw(columns[key]!.getSQLType())}`),
    sql`, `,
  );
  const columnList = sql.join(names.map((name) => sql.identifier(name)), sql`, `);
  const returningList = returning.length
    ? sql` returning ${sql.join(
        returning.map((key) => sql`${sql.identifier(columns[key]!.name)} as ${sql.identifier(key)}`),
        sql`, `,
      )}`
    : sql``;
  return queryRows(
    db,
    sql`insert into ${sql.identifier(getTableName(table))} (${columnList}) select ${columnList} from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as x(${definition})${returningList}`,
  );
}

/**
 * Updates many rows of a record table with one statement: the new column values as a JSON array joined
 * on `id`, each applied only while the row still has `expectedVersion` (the optimistic check is part of
 * the UPDATE, not a read before it). Bumps `version` and `updated_at`. Returns the `returning` columns (JS
 * keys; every column when omitted) of the rows updated; a row missing from the answer had changed meanwhile.
 */
export async function updateJsonRows(
  db: Db,
  table: PgTable,
  rows: (Record<string, unknown> & { id: string; expectedVersion: number })[],
  returning?: string[],
): Promise<Record<string, unknown>[]> {
  if (rows.length === 0) return [];
  const columns = getTableColumns(table);
  const fixed = new Set(['id', 'version', 'createdAt', 'updatedAt', 'deletedAt']);
  const keys = Object.keys(rows[0]!).filter((key) => columns[key] && !fixed.has(key));
  const payload = rows.map((row) => ({
    id: row.id,
    expected_version: row.expectedVersion,
    ...Object.fromEntries(keys.map((key) => [columns[key]!.name, row[key] ?? null])),
  }));
  const definition = sql.join(
    [
      sql`id uuid, expected_version integer`,
      ...keys.map((key) => sql`${sql.identifier(columns[key]!.name)} ${sql.raw(columns[key]!.getSQLType())}`),
    ],
    sql`, `,
  );
  const target = sql.identifier(getTableName(table));
  const assignments = sql.join(
    [
      ...keys.map((key) => sql`${sql.identifier(columns[key]!.name)} = x.${sql.identifier(columns[key]!.name)}`),
      sql`version = ${target}.version + 1`,
      sql`updated_at = now()`,
    ],
    sql`, `,
  );
  const returned = Object.entries(columns).filter(([key]) => !returning || returning.includes(key));
  const returningList = sql.join(
    returned.map(([key, column]) => sql`${target}.${sql.identifier(column.name)} as ${sql.identifier(key)}`),
    sql`, `,
  );
  const rowsOut = await queryRows(
    db,
    sql`update ${target} set ${assignments} from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as x(${definition})
        where ${target}.id = x.id and ${target}.version = x.expected_version returning ${returningList}`,
  );
  // A raw query skips drizzle's column mapping: map each value as a query builder read would (e.g. a
  // bigint in 'number' mode comes back from the driver as a string).
  for (const row of rowsOut) {
    for (const [key, column] of returned) {
      const value = row[key];
      if (value !== null && value !== undefined) row[key] = column.mapFromDriverValue(value);
    }
  }
  return rowsOut;
}
