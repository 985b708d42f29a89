import { sql } from 'drizzle-orm';
import { loadConfigOrReport, type Config } from '../config.js';
import { queryRows, type Database } from '../db/client.js';
import { expectedMigrationCount, migrate } from '../db/migrate.js';
import { isConnectionError, rootDbError } from '../errors.js';
import { openRuntime } from '../runtime.js';

/** `npm run migrate`: applies the migrations in `migrations/` to the configured database and says what it did. */

async function appliedCount(database: Database): Promise<number> {
  const [present] = await queryRows<{ present: boolean }>(
    database.db,
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  );
  if (!present?.present) return 0;
  const [row] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  return Number(row?.n ?? 0);
}

/** Where the migrations went, without the password. */
function describeTarget(config: Config): string {
  if (!config.DATABASE_URL) return `embedded PGlite database in ${config.PGLITE_DIR}`;
  try {
    const url = new URL(config.DATABASE_URL);
    return `PostgreSQL database ${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
  } catch {
    return 'PostgreSQL database';
  }
}

function oneLine(err: unknown): string {
  const root = rootDbError(err);
  const message = root instanceof Error ? root.message : err instanceof Error ? err.message : String(err);
  const text = message.split('\n')[0] ?? '';
  return isConnectionError(root) ? `cannot reach the database: ${text}` : text;
}

async function main(): Promise<number> {
  const config = loadConfigOrReport('migrate: ');
  if (!config) return 1;
  const target = describeTarget(config);
  let database: Database | undefined;
  try {
    ({ database } = await openRuntime(config));
    const expected = expectedMigrationCount();
    const before = await appliedCount(database);
    const started = Date.now();
    await migrate(database);
    const after = await appliedCount(database);
    const applied = after - before;
    const ms = Date.now() - started;
    process.stdout.write(
      applied > 0
        ? `migrate: applied ${applied} migration${applied === 1 ? '' : 's'} to the ${target} in ${ms} ms (${after} of ${expected} applied)\n`
        : `migrate: the ${target} is up to date (${after} of ${expected} migrations applied); nothing to do\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`migrate: failed on the ${target}: ${oneLine(err)}\n`);
    return 1;
  } finally {
    await database?.close().catch(() => undefined);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`migrate: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
    process.exit(1);
  },
);
