import { and, getTableName, gt, isNull, ne, or, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { queryRows } from '../db/client.js';
import type { PiiCipher } from '../security/pii.js';
import { ENCRYPTED_PII_KINDS, type CollectionDefinition } from './definition.js';
import { bodyFormat, maskedBody, maskedValue } from './render.js';
import { columnOf, selectRows, type Registry } from './store.js';

const BATCH = 500;

/**
 * Stores the masked forms of personal fields that rows written before they were stored lack (migration
 * 0007), in batches, at start-up. Until then such rows are masked from their ciphertext at read time, so
 * this only makes their reads as cheap as the others'; it changes no version and writes no feed entry
 * (the representation is the same). Returns the number of rows filled.
 */
export async function fillMaskedForms(database: Database, collections: readonly CollectionDefinition[], cipher: PiiCipher): Promise<number> {
  let filled = 0;
  for (const def of collections) {
    const fields = (def.pii ?? []).filter((p) => ENCRYPTED_PII_KINDS.has(p.kind));
    if (fields.length === 0) continue;
    const table = sql.identifier(getTableName(def.table));
    const cipherColumn = (field: string) => sql.identifier(columnOf(def, `${field}Cipher`).name);
    const maskedColumn = (field: string) => sql.identifier(columnOf(def, `${field}Masked`).name);
    const missing = sql.join(
      fields.map((p) => sql`(${maskedColumn(p.field)} is null and ${cipherColumn(p.field)} is not null)`),
      sql` or `,
    );
    for (;;) {
      const rows = await queryRows<Record<string, string | null>>(
        database.db,
        sql`select id, ${sql.join(fields.map((p) => sql`${cipherColumn(p.field)} as ${sql.identifier(p.field)}`), sql`, `)}
          from ${table} where ${missing} order by id limit ${BATCH}`,
      );
      if (rows.length === 0) break;
      const values = rows.map((row) => {
        const out: Record<string, string | null> = { id: row['id']! };
        for (const p of fields) {
          const stored = row[p.field];
          out[p.field] = typeof stored === 'string' ? maskedValue(p.kind, cipher.decrypt(stored)) : null;
        }
        return out;
      });
      const assignments = sql.join(
        fields.map((p) => sql`${maskedColumn(p.field)} = m.${sql.identifier(p.field)}`),
        sql`, `,
      );
      const recordset = sql.join([sql`id uuid`, ...fields.map((p) => sql`${sql.identifier(p.field)} text`)], sql`, `);
      await database.db.execute(
        sql`update ${table} as t set ${assignments}
          from jsonb_to_recordset(${JSON.stringify(values)}::jsonb) as m(${recordset}) where t.id = m.id`,
      );
      filled += rows.length;
      if (rows.length < BATCH) break;
    }
  }
  return filled;
}

/**
 * Keeps the masked body (render.ts `maskedBody`) of live rows that lack one — written before bodies were
 * kept (migration 0010) — or keep one in another format (a release that renders records differently), in
 * batches by id. Until then such rows are rendered from their columns at read time: this only makes their
 * reads as cheap as the others'. A row written meanwhile is left as that write made it (the update applies
 * only to the version read). Changes no version and writes no feed entry. Returns the number of rows kept.
 */
export async function fillMaskedBodies(
  database: Database,
  collections: readonly CollectionDefinition[],
  registry: Registry,
  cipher: PiiCipher,
): Promise<number> {
  let filled = 0;
  for (const def of collections) {
    const table = def.table;
    const format = bodyFormat(def);
    let after: string | undefined;
    for (;;) {
      const stale = and(
        isNull(table.deletedAt),
        or(isNull(table.maskedBody), isNull(table.maskedBodyFormat), ne(table.maskedBodyFormat, format)),
        after === undefined ? undefined : gt(table.id, after),
      );
      const rows = await selectRows(database.db, def, registry, stale, { limit: BATCH, orderById: true });
      if (rows.length === 0) break;
      const values = rows.map((row) => ({ id: row.id, version: row.version, body: maskedBody(def, row, cipher) }));
      const updated = await queryRows(
        database.db,
        sql`update ${sql.identifier(getTableName(table))} as t set masked_body = m.body, masked_body_format = ${format}
          from jsonb_to_recordset(${JSON.stringify(values)}::jsonb) as m(id uuid, version integer, body text)
          where t.id = m.id and t.version = m.version returning t.id`,
      );
      filled += updated.length;
      after = rows[rows.length - 1]!.id;
      if (rows.length < BATCH) break;
    }
  }
  return filled;
}
