import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { queryRows, type Database } from './client.js';

/** `migrations/` sits at the package root, beside `src/` (tsx) and `dist/` (built). */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));

/** An arbitrary constant: every replica starting at once takes this lock, so one migrates and the others wait. */
const MIGRATION_LOCK_KEY = 4_101_000_001;

export function expectedMigrationCount(folder = MIGRATIONS_FOLDER): number {
  const journal = JSON.parse(readFileSync(`${folder}/meta/_journal.json`, 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

export async function migrate(database: Database, folder = MIGRATIONS_FOLDER): Promise<void> {
  if (database.pglite) {
    await migratePglite(drizzlePglite(database.pglite), { migrationsFolder: folder });
    return;
  }
  if (!database.pool) throw new Error('database has neither a pool nor a PGlite instance');
  const client = await database.pool.connect();
  // A checked-out client has no pool listener; without one a dropped connection would crash the process.
  const onError = () => {};
  client.on('error', onError);
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await migratePg(drizzlePg(client), { migrationsFolder: folder });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.off('error', onError);
    client.release();
  }
}

/** True when every migration shipped with this build has been applied. */
export async function isMigrated(database: Database, expected = expectedMigrationCount()): Promise<boolean> {
  const rows = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  const n = Number(rows[0]?.n ?? 0);
  return n >= expected;
}
