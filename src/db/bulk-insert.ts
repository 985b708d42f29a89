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
