// The write baseline of `npm run bench`: the same officer rows as the API batch, written with raw `pg` as one
// multi-row `INSERT … SELECT FROM unnest(…) ON CONFLICT … DO UPDATE` per chunk into a twin of the officers table
// (`LIKE officers INCLUDING ALL`: same columns, same indexes). The personal fields are encrypted and blind-indexed
// with the same cipher inside the timed part, because the stored rows must be the same; the org units' ids are looked
// up beforehand (outside the timing). No validation, no rules, no change feed, no audit, no HTTP.
import type pg from 'pg';
import type { UpsertOperation } from '../src/demo/generator.js';
import type { PiiCipher } from '../src/security/pii.js';

export const TWIN_TABLE = 'bench_officers';

export async function createTwinTable(client: pg.ClientBase): Promise<void> {
  await client.query(`drop table if exists ${TWIN_TABLE}`);
  await client.query(`create table ${TWIN_TABLE} (like officers including all)`);
}

// [column, postgres array type, how to get the value from an operation]
type ColumnSpec = readonly [string, string, (op: UpsertOperation, ctx: RowContext) => unknown];
interface RowContext {
  cipher: PiiCipher;
  orgUnitId(regionCode: string, externalId: string): string;
}

const text = (field: string) => (op: UpsertOperation) => (op.data[field] as string | undefined) ?? null;

const COLUMNS: readonly ColumnSpec[] = [
  ['region_code', 'text', (op) => op.regionCode],
  ['external_id', 'text', (op) => op.externalId],
  ['name', 'text', text('name')],
  ['gender', 'text', text('gender')],
  ['id_card_number_cipher', 'text', (op, ctx) => ctx.cipher.encrypt(op.data['idCardNumber'] as string)],
  ['id_card_number_hash', 'text', (op, ctx) => ctx.cipher.blindIndex(op.data['idCardNumber'] as string)],
  ['birth_date', 'date', text('birthDate')],
  ['ethnicity', 'text', text('ethnicity')],
  ['political_status', 'text', text('politicalStatus')],
  ['education', 'text', text('education')],
  ['phone_cipher', 'text', (op, ctx) => (typeof op.data['phone'] === 'string' ? ctx.cipher.encrypt(op.data['phone']) : null)],
  ['phone_hash', 'text', (op, ctx) => (typeof op.data['phone'] === 'string' ? ctx.cipher.blindIndex(op.data['phone']) : null)],
  ['org_unit_id', 'uuid', (op, ctx) => ctx.orgUnitId(op.regionCode, op.data['orgUnitExternalId'] as string)],
  ['position', 'text', text('position')],
  ['rank', 'text', text('rank')],
  ['cadre_level', 'text', text('cadreLevel')],
  ['staffing_type', 'text', text('staffingType')],
  ['hire_date', 'date', text('hireDate')],
  ['employment_status', 'text', text('employmentStatus')],
  ['badge_number', 'text', text('badgeNumber')],
];

const names = COLUMNS.map(([name]) => `"${name}"`).join(', ');
const UPSERT_SQL = `insert into ${TWIN_TABLE} (${names})
  select * from unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})
  on conflict (region_code, external_id) where deleted_at is null do update set
  ${COLUMNS.slice(2).map(([name]) => `"${name}" = excluded."${name}"`).join(', ')},
  version = ${TWIN_TABLE}.version + 1, updated_at = now()`;

/** Runs `statement` over `operations` in chunks of `chunkSize`, the columns as arrays; returns the rows written. */
async function inChunks(statement: string, client: pg.ClientBase, operations: readonly UpsertOperation[], ctx: RowContext, chunkSize: number) {
  let written = 0;
  for (let start = 0; start < operations.length; start += chunkSize) {
    const chunk = operations.slice(start, start + chunkSize);
    const columns = COLUMNS.map(([, , value]) => chunk.map((op) => value(op, ctx)));
    const result = await client.query(statement, columns);
    written += result.rowCount ?? 0;
  }
  return written;
}

/** Upserts `operations` in chunks of `chunkSize`, one statement per chunk; returns the rows written. */
export function baselineUpsert(client: pg.ClientBase, operations: readonly UpsertOperation[], ctx: RowContext, chunkSize = 1000): Promise<number> {
  return inChunks(UPSERT_SQL, client, operations, ctx, chunkSize);
}

// The update baseline: one `UPDATE … FROM unnest(…)` per chunk, matched on the caller's key, bumping the version.
const UPDATE_SQL = `update ${TWIN_TABLE} as t set
  ${COLUMNS.slice(2).map(([name]) => `"${name}" = u."${name}"`).join(', ')},
  version = t.version + 1, updated_at = now()
  from unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')}) as u(${names})
  where t.region_code = u.region_code and t.external_id = u.external_id and t.deleted_at is null`;

/** Updates the twin rows of `operations` (which must exist) in chunks of `chunkSize`; returns the rows written. */
export function baselineUpdate(client: pg.ClientBase, operations: readonly UpsertOperation[], ctx: RowContext, chunkSize = 1000): Promise<number> {
  return inChunks(UPDATE_SQL, client, operations, ctx, chunkSize);
}
